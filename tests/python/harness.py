"""The shared harness of the Python tests that run named checks and go on past a failure."""
import shutil
import subprocess
import traceback


class Checks:
    """check(name, fn) runs fn and reports it; summary() prints the tally, returns the exit code."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, fn):
        try:
            fn()
            self.passed += 1
            print(f"ok      {name}")
        except Exception:  # noqa: BLE001 - report every failure and go on
            self.failed += 1
            print(f"FAILED  {name}")
            traceback.print_exc()

    def summary(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def run(binary, args):
    """Run the binary; its stdout, or an error with its stderr if it exits non-zero."""
    proc = subprocess.run([binary] + args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc.stdout


def run_all(fns, tmp=None):
    """Run each function as a named check; remove the folder `tmp` if all passed. The exit code."""
    checks = Checks()
    for fn in fns:
        checks.check(fn.__name__, fn)
    rc = checks.summary()
    if rc == 0 and tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return rc
