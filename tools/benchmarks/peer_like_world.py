#!/usr/bin/python3
"""shortfall's own benchmark generator for hub-heavy firm networks (tools/bench's peer-like case;
docs/performance.md, "Hub-heavy worlds"). A benchmark world shaped like the firm networks that
published firm-level simulators are benchmarked on: scale-free supplier degrees (suppliers drawn
with Pareto(1.2) weights, so a few hubs serve tens of thousands of buyers), uniform buyers,
lognormal flows, S sectors, one country, and a share of firms losing capacity on day 0 with linear
recovery. Every number is synthetic (no real-world data).

Usage: peer_like_world.py FIRMS AVG_DEGREE SECTORS OUTDIR [DAMAGED_SHARE LOSS SEED DAYS]
Writes OUTDIR/world.yaml, firms.csv, links.csv, losses.csv and scenario.yaml (firm-level recording
off; add your own record settings to measure the writer).  Needs numpy (python3-numpy)."""
import os, sys
import numpy as np

N, K, S, out = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
dshare = float(sys.argv[5]) if len(sys.argv) > 5 else 0.05
loss = float(sys.argv[6]) if len(sys.argv) > 6 else 0.5
seed = int(sys.argv[7]) if len(sys.argv) > 7 else 11
days = int(sys.argv[8]) if len(sys.argv) > 8 else 60
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(seed)
sector = rng.integers(0, S, size=N)
w = rng.pareto(1.2, size=N) + 1.0
E = int(N * K)
buyers = rng.integers(0, N, size=E)
suppliers = rng.choice(N, size=E, p=w / w.sum())
keep = suppliers != buyers
buyers, suppliers = buyers[keep], suppliers[keep]
key, idx = np.unique(suppliers.astype(np.int64) * N + buyers, return_index=True)
suppliers, buyers = suppliers[idx], buyers[idx]
flow = np.round(rng.lognormal(3.0, 1.5, size=len(key)), 6)
sales = np.bincount(suppliers, weights=flow, minlength=N)
inputs = np.bincount(buyers, weights=flow, minlength=N)
final = np.round(np.maximum(np.maximum(rng.lognormal(3.0, 1.0, size=N), 1.25 * inputs - sales), 1.0), 6)
present = np.zeros(N, bool); present[suppliers] = True; present[buyers] = True
with open(f"{out}/firms.csv", "w") as f:
    f.write("id,country,material,final_demand\n")
    for i in np.flatnonzero(present):
        f.write(f"f{i},AAA,s{sector[i]},{final[i]:.6f}\n")
with open(f"{out}/links.csv", "w") as f:
    f.write("supplier,buyer,flow\n")
    for s_, b_, z in zip(suppliers, buyers, flow):
        f.write(f"f{s_},f{b_},{z:.6f}\n")
damaged = rng.choice(np.flatnonzero(present), size=max(1, int(present.sum() * dshare)), replace=False)
with open(f"{out}/losses.csv", "w") as f:
    f.write("firm,loss\n")
    for i in damaged:
        f.write(f"f{i},{loss:.3f}\n")
with open(f"{out}/world.yaml", "w") as f:
    f.write("name: peer-like\ncountries:\n  - {code: AAA, name: Testland}\nmaterials:\n")
    for m in sorted(set(sector[present].tolist())):
        f.write(f"  - {{id: s{m}, unit: usd}}\n")
    f.write("firms_csv: firms.csv\nlinks_csv: links.csv\n")
with open(f"{out}/scenario.yaml", "w") as f:
    f.write(f"name: peer-like\nworld: world.yaml\ndays: {days}\nseed: 1\n"
            "model: {tau: 6, inventory_days: 15, rationing: proportional}\n"
            "record: {firm_level: false}\nevents:\n"
            "  - {type: capacity_loss, start: 0, firms_csv: losses.csv, recovery: {type: linear, days: 60}}\n")
print(f"firms={int(present.sum())} links={len(key)} sectors={S} damaged={len(damaged)}")
