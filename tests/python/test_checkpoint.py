#!/usr/bin/python3
"""A run killed (SIGKILL, at arbitrary moments after its checkpoints) and resumed gives the same
HDF5 data, bit for bit, as an uninterrupted run; a killed run leaves no file under the output
name (issues 8 and 20). Args: <shortfall binary> <source dir>."""
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

exe, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAILED:", what)


def datasets(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def same(a, b):
    if a.dtype.kind == "f":
        return np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


def run_killed(cmd, checkpoint, delay):
    """Starts cmd, waits until it writes a checkpoint (a new one if one exists), sleeps `delay`
    seconds and kills it with SIGKILL. Returns the exit code (-9 if it was killed)."""
    before = os.stat(checkpoint).st_mtime_ns if os.path.exists(checkpoint) else None
    p = subprocess.Popen(cmd)
    while p.poll() is None:
        if os.path.exists(checkpoint) and os.stat(checkpoint).st_mtime_ns != before:
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    return p.wait()


with tempfile.TemporaryDirectory() as tmp:
    # A scenario with lead times, an export control and every policy, so the checkpoint must
    # carry rings, caps, new links, stockpiles and mechanisms; under waterfill also the
    # suppliers' weights, which new links change and a resumed run derives again.
    for rule in ("proportional", "waterfill"):
        scen = os.path.join(tmp, f"s-{rule}.yaml")
        with open(scen, "w") as f:
            f.write(f"""name: checkpoint-test
world: {src}/scenarios/worlds/example.yaml
days: 3000
seed: 7
model: {{rationing: {rule}, alpha_max: 1.2, tau_alpha: 30, substitution: {{enabled: true, search_days: 5}}}}
events:
  - {{type: export_control, start: 0, end: 90, exporters: [CHN], materials: [gallium], targets: [ipef], license_share: 0.1}}
  - {{type: transport_disruption, start: 20, end: 60, between: [[JPN], [USA]], extra_days: 7}}
policies:
  - {{type: crisis_response, name: scra, members: ipef, meeting_days: 10, implementation_days: 3,
     actions: [match_suppliers, surge, release_stockpiles]}}
  - {{type: stockpile, country: JPN, material: gallium, days_of_use: 30}}
""")
        a = os.path.join(tmp, f"a-{rule}.h5")
        b = os.path.join(tmp, f"b-{rule}.h5")
        subprocess.run([exe, "run", scen, "-o", a, "-q"], check=True)
        # Killed four times at moments drawn at random (while a day is simulated, a chunk is
        # written or a checkpoint is being published), resumed after each kill.
        rng = random.Random(rule)
        # Every 99 days: most checkpoints fall inside a firm-level chunk of four days, whose
        # rows the recorder keeps until the day that completes it (read from the engine then).
        cmd = [exe, "run", scen, "-o", b, "-q", "--checkpoint-every", "99"]
        kills = 0
        for attempt in range(4):
            r = run_killed(cmd + (["--resume"] if attempt else []), b + ".checkpoint",
                           rng.uniform(0.0, 0.03))
            # The output appears whole (renamed into place) once the run is finished: a kill
            # that lands after that, before the checkpoint is removed, killed a finished run.
            if r == -signal.SIGKILL and not os.path.exists(b):
                kills += 1
                check(os.path.exists(b + ".checkpoint"), f"{rule}: a killed run keeps its checkpoint")
        check(kills >= 2, f"{rule}: at least two runs were killed before finishing (got {kills})")
        r = subprocess.run(cmd + ["--resume"])
        check(r.returncode == 0, f"{rule}: resume succeeds")
        check(not os.path.exists(b + ".checkpoint"), f"{rule}: a finished run removes its checkpoint")
        if not os.path.exists(b):
            check(False, f"{rule}: the resumed run wrote its output")
            continue
        da, db = datasets(h5py.File(a)), datasets(h5py.File(b))
        check(sorted(da) == sorted(db), f"{rule}: same datasets")
        for k in da:
            check(k in db and same(da[k], db[k]), f"{rule}: dataset {k} identical after resume")
        print(f"{rule}: compared {len(da)} datasets after {kills} kills and resumes")

    # A checkpoint of another format (an older shortfall) is refused with exit code 2 and says
    # which formats, rather than being read as this version's state.
    c = os.path.join(tmp, "c.h5")
    magic = b"shortfall-checkpoint-v2"  # the format of model version 1
    with open(c + ".checkpoint", "wb") as f:
        f.write(len(magic).to_bytes(8, "little") + magic + bytes(64))
    r = subprocess.run([exe, "run", scen, "-o", c, "-q", "--resume"], capture_output=True, text=True)
    check(r.returncode == 2, f"old-format checkpoint exits 2, got {r.returncode}")
    check("found format v2" in r.stderr and "expected a checkpoint of format v6" in r.stderr,
          f"old-format checkpoint message, got {r.stderr!r}")
    check(not os.path.exists(c), "no output from a refused resume")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
