#!/usr/bin/python3
"""tools/bench --quick runs and prints a throughput table (issue 6: benchmarks live outside the
test suite; the suite only checks that the quick mode works, and that --case selects cases).
Args: <shortfall binary> <src>."""
import os
import subprocess
import sys

exe, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
build = os.path.dirname(exe)
passed = failed = 0
if not os.path.exists(os.path.join(build, "tools", "benchmarks", "shortfall_bench")):
    print("SKIP: benchmarks not built (libbenchmark-dev missing)")
    print("0 passed, 0 failed")
    sys.exit(0)
r = subprocess.run([os.path.join(src, "tools", "bench"), "--quick", "--threads", "1",
                    "--repeat", "2"],
                   env=dict(os.environ, SHORTFALL_BUILD_DIR=build), capture_output=True, text=True,
                   cwd=src, timeout=600)
lines = r.stdout.splitlines()
loading_at = next((k for k, line in enumerate(lines) if line.startswith("loading:")), len(lines))
rows = [line.split() for line in lines[:loading_at] if line.startswith("10000 ")]
loads = [line.split() for line in lines[loading_at:] if line.startswith("10000 ")]


def section(title):
    """The rows under a section's title line and its header, up to the next title."""
    at = next((k for k, line in enumerate(lines) if line.startswith(title)), None)
    if at is None:
        return []
    rows = []
    for line in lines[at + 2:]:
        if not line[:1].isdigit():
            break
        rows.append(line.split())
    return rows


small = section("small world:")  # firms links thr setup_ms run_s cpu_s Mlinkd/s us/day ...
peer = section("peer-like:")  # the same columns
ensemble = section("ensemble:")  # runs thr wall_s cpu_s runs/s cpu_ms/run rss_MB sweep
# recording: a row per storage mode ("firm_level: ...", then run s, ratio, file MB, peak MB),
# six modes on the peer-like and on the synthetic world, the default with the sync thread off,
# then (where /dev/shm is a writable tmpfs) two diagnostic rows each with the file in memory
in_memory_label, sync_off_label = "[file in /dev/shm]", "[sync thread off]"
recording = [line.split()[-4:] for line in lines if line.strip().startswith("firm_level:")
             and in_memory_label not in line and sync_off_label not in line]
sync_off = [line.split()[-4:] for line in lines
            if line.strip().startswith("firm_level:") and sync_off_label in line]
in_memory = [line.split()[-4:] for line in lines
             if line.strip().startswith("firm_level:") and in_memory_label in line]
# --case runs only the cases named; an unknown one is refused with the names.
only = subprocess.run([os.path.join(src, "tools", "bench"), "--quick", "--threads", "1",
                       "--case", "small-world"],
                      env=dict(os.environ, SHORTFALL_BUILD_DIR=build), capture_output=True,
                      text=True, cwd=src, timeout=600)
bad = subprocess.run([os.path.join(src, "tools", "bench"), "--quick", "--case", "recordings"],
                     capture_output=True, text=True, cwd=src, timeout=60)
for ok, what in [
    (only.returncode == 0 and "small world:" in only.stdout and "Mlinkd/s" in only.stdout
     and "ensemble:" not in only.stdout and "loading:" not in only.stdout
     and "recording:" not in only.stdout and "BM_Waterfill" not in only.stdout,
     "--case small-world runs that case alone"),
    (bad.returncode == 2 and "unknown case 'recordings'" in bad.stderr
     and "recording" in bad.stderr, "--case with an unknown name exits 2 naming the cases"),
    (r.returncode == 0, f"tools/bench --quick exits 0 (got {r.returncode}: {r.stderr[-500:]})"),
    ("Mlinkd/s" in r.stdout, "prints the table header"),
    (len(rows) >= 2, "prints a row per case"),
    (all(float(row[6]) > 0 for row in rows), "link-days per second are positive"),
    (len(peer) >= 1 and int(peer[0][1]) > 40000 and float(peer[0][6]) > 0,
     "prints the peer-like case (about 50k links) with link-days per second"),
    (len(loads) == 1 and float(loads[0][3]) > 0, "prints the loading case with links per second"),
    (len(small) == 1 and float(small[0][4]) > 0 and float(small[0][5]) > 0,
     "prints the small-world case with its engine and CPU seconds"),
    (len(ensemble) == 1 and ensemble[0][0] == "50" and float(ensemble[0][4]) > 0
     and float(ensemble[0][6]) > 0, "prints the ensemble case: 50 runs, runs per second, RSS"),
    (sum(line.startswith("recording: peer-like") for line in lines) == 1
     and sum(line.startswith("recording: synthetic") for line in lines) == 1
     and len(recording) == 12 and all(float(x[0]) > 0 and float(x[2]) > 0 for x in recording),
     "prints the recording case (six storage modes, peer-like and synthetic) with run seconds "
     "and file sizes"),
    (len(sync_off) == 2 and all(float(x[0]) > 0 and float(x[2]) > 0 for x in sync_off),
     "prints the default with the sync thread off, each world"),
    (len(in_memory) in (0, 4) and all(float(x[0]) > 0 and float(x[2]) > 0 for x in in_memory),
     "prints the in-memory diagnostic rows (off and the default, each world) or none"),
    ("BM_Waterfill" in r.stdout, "runs the kernel benchmarks"),
]:
    passed += ok
    failed += not ok
    if not ok:
        print("FAILED:", what)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
