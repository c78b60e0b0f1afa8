#!/usr/bin/env python3
"""MPI in the default build, and sweeps under mpirun (issue 19, "Clusters").

Usage: test_mpi_build.py <shortfall binary> <source dir>   (run from the build directory)

1. A fresh configure with no options builds MPI sweeps in exactly when OpenMPI is installed
   (libopenmpi-dev, openmpi-bin: what tools/setup installs) and says so; -DSHORTFALL_MPI=OFF
   leaves MPI out.
2. The program of this build directory says in --version that it has MPI when this directory
   was configured with the default (AUTO) and OpenMPI is installed.
3. `mpirun -np 2 shortfall sweep` writes the same bytes as a sweep in one process, with nothing
   on stderr and no journal left behind; `mpirun -np 2 shortfall run` is refused (exit 2), with
   the message printed once. As root, mpirun runs with OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM).
Prints "N passed, M failed".
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from harness import Checks

BINARY = os.path.abspath(sys.argv[1])
SOURCE = os.path.abspath(sys.argv[2])
CHECKS = Checks()
check = CHECKS.check

OPENMPI = bool(shutil.which("mpirun")) and bool(
    glob.glob("/usr/lib/*/openmpi/include/mpi.h") + glob.glob("/usr/include/*/openmpi/mpi.h")
    + glob.glob("/usr/lib/*/openmpi/include/openmpi/mpi.h")
)
VERSION = subprocess.run([BINARY, "--version"], capture_output=True, text=True).stdout
HAS_MPI = re.search(r"^mpi +yes", VERSION, re.M) is not None


def mpi_env():
    env = {k: v for k, v in os.environ.items()
           if not re.match(r"(OMPI_COMM_WORLD|PMIX_|PMI_|SLURM_STEP|MPI_LOCAL)", k)}
    if os.geteuid() == 0:  # Open MPI's mpirun refuses root without these
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def default_configure():
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["cmake", "-S", SOURCE, "-B", tmp]
        if shutil.which("ninja"):
            cmd += ["-G", "Ninja"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        line = re.search(r"^-- shortfall: MPI sweeps (ON|OFF).*$", proc.stdout, re.M)
        assert line, "configure does not say whether MPI is built in:\n" + proc.stdout
        want = "ON" if OPENMPI else "OFF"
        assert line.group(1) == want, (line.group(0), "OpenMPI installed" if OPENMPI else
                                       "no OpenMPI")
        off = subprocess.run(["cmake", "-S", SOURCE, "-B", tmp, "-DSHORTFALL_MPI=OFF"],
                             capture_output=True, text=True, timeout=300)
        assert off.returncode == 0, off.stdout + off.stderr
        assert re.search(r"^-- shortfall: MPI sweeps OFF$", off.stdout, re.M), off.stdout


def this_build_has_mpi():
    cache = {}
    with open("CMakeCache.txt", encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^(SHORTFALL_\w+):\w+=(.*)$", line)
            if m:
                cache[m.group(1)] = m.group(2)
    setting = cache.get("SHORTFALL_MPI", "").upper()
    sanitized = cache.get("SHORTFALL_SANITIZE") or cache.get("SHORTFALL_FUZZ", "OFF") == "ON"
    if setting == "ON" or (setting == "AUTO" and OPENMPI and not sanitized):
        assert HAS_MPI, f"SHORTFALL_MPI={setting} with OpenMPI installed, but:\n{VERSION}"
    elif setting == "OFF":
        assert not HAS_MPI, VERSION


def mpirun_sweep():
    if not (HAS_MPI and shutil.which("mpirun")):
        print("  SKIP: this shortfall has no MPI, or mpirun is missing")
        return
    sweep = os.path.join(SOURCE, "scenarios/sweeps/example-license-share.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        one = os.path.join(tmp, "one.h5")
        subprocess.run([BINARY, "sweep", sweep, "--out", one, "--threads", "1", "--quiet"],
                       check=True, timeout=120)
        mpi = os.path.join(tmp, "mpi", "two.h5")
        os.mkdir(os.path.dirname(mpi))
        proc = subprocess.run(["mpirun", "--oversubscribe", "-np", "2", BINARY, "sweep", sweep,
                               "--out", mpi, "--threads", "1", "--quiet"],
                              capture_output=True, text=True, timeout=120, env=mpi_env())
        assert proc.returncode == 0, proc.stdout + proc.stderr
        # Nothing from MPI itself; the sweep's own warnings about its spec (printed once, by rank
        # 0: this sweep's replicates draw no random numbers) are expected.
        noise = [l for l in proc.stderr.splitlines() if l and not l.startswith("warning: ")]
        assert noise == [], proc.stderr
        assert proc.stderr.count("replicates:") <= 1, proc.stderr
        assert os.listdir(os.path.dirname(mpi)) == ["two.h5"], os.listdir(os.path.dirname(mpi))
        with open(one, "rb") as a, open(mpi, "rb") as b:
            assert a.read() == b.read(), "mpirun -np 2 and one process give different files"


def mpirun_run_refused():
    if not shutil.which("mpirun"):
        print("  SKIP: mpirun is missing")
        return
    scenario = os.path.join(SOURCE, "scenarios/example-gallium-cut.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["mpirun", "--oversubscribe", "-np", "2", BINARY, "run", scenario,
                               "--out", os.path.join(tmp, "x.h5")],
                              capture_output=True, text=True, timeout=120, env=mpi_env())
        assert proc.returncode == 2, (proc.returncode, proc.stderr)
        said = "only `shortfall sweep`" if HAS_MPI else "this shortfall was built without MPI"
        assert proc.stderr.count(said) == 1, proc.stderr
        assert os.listdir(tmp) == [], os.listdir(tmp)


def main():
    check("a fresh default configure builds MPI in when OpenMPI is installed", default_configure)
    check("--version of this build reports MPI", this_build_has_mpi)
    check("mpirun -np 2 sweep writes the bytes of a one-process sweep", mpirun_sweep)
    check("mpirun -np 2 run is refused once, before it writes", mpirun_run_refused)
    return CHECKS.summary()


if __name__ == "__main__":
    sys.exit(main())
