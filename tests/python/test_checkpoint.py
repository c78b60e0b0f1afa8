#!/usr/bin/python3
"""A run killed after a checkpoint and resumed gives the same HDF5 data, bit for bit, as an
uninterrupted run; the killed run leaves no file under the output name (issue 8).
Args: <shortfall binary> <source dir>."""
import os
import subprocess
import sys
import tempfile

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


with tempfile.TemporaryDirectory() as tmp:
    # A scenario with lead times, an export control and every policy, so the checkpoint must
    # carry rings, caps, new links, stockpiles and mechanisms; under waterfill also the
    # suppliers' weights, which new links change and a resumed run derives again.
    for rule in ("proportional", "waterfill"):
        scen = os.path.join(tmp, f"s-{rule}.yaml")
        with open(scen, "w") as f:
            f.write(f"""name: checkpoint-test
world: {src}/scenarios/worlds/example.yaml
days: 200
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
        env = dict(os.environ, SHORTFALL_TEST_KILL_AFTER_DAY="123")
        r = subprocess.run([exe, "run", scen, "-o", b, "-q", "--checkpoint-every", "40"], env=env)
        check(r.returncode == 137, f"{rule}: killed run exits 137, got {r.returncode}")
        check(not os.path.exists(b), f"{rule}: a killed run leaves nothing under the output name")
        check(os.path.exists(b + ".checkpoint"), f"{rule}: the checkpoint of day 119 exists")
        r = subprocess.run([exe, "run", scen, "-o", b, "-q", "--checkpoint-every", "40", "--resume"])
        check(r.returncode == 0, f"{rule}: resume succeeds")
        check(not os.path.exists(b + ".checkpoint"), f"{rule}: a finished run removes its checkpoint")
        da, db = datasets(h5py.File(a)), datasets(h5py.File(b))
        check(sorted(da) == sorted(db), f"{rule}: same datasets")
        for k in da:
            check(k in db and same(da[k], db[k]), f"{rule}: dataset {k} identical after resume")
        print(f"{rule}: compared {len(da)} datasets after resume")

    # A checkpoint of another format (an older shortfall) is refused with exit code 2 and says
    # which formats, rather than being read as this version's state.
    c = os.path.join(tmp, "c.h5")
    magic = b"shortfall-checkpoint-v2"  # the format of model version 1
    with open(c + ".checkpoint", "wb") as f:
        f.write(len(magic).to_bytes(8, "little") + magic + bytes(64))
    r = subprocess.run([exe, "run", scen, "-o", c, "-q", "--resume"], capture_output=True, text=True)
    check(r.returncode == 2, f"old-format checkpoint exits 2, got {r.returncode}")
    check("found format v2" in r.stderr and "expected a checkpoint of format v4" in r.stderr,
          f"old-format checkpoint message, got {r.stderr!r}")
    check(not os.path.exists(c), "no output from a refused resume")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
