#!/usr/bin/python3
"""Writes icio-synthetic.csv: an INVENTED table in the OECD ICIO 2023 layout (docs/mrio.md).

Every number is made up (no statistical source): final demand by destination is drawn with a
fixed seed, technical coefficients are chosen so that intermediate use is about half of output,
and output follows from x = (I - A)^-1 f. Rows TLS, VA, OUT and the column OUT complete the
layout (OUT = row sums; VA = OUT - intermediate inputs - TLS). One inventory change is negative,
as in real tables. Values in "USD million" a year. Run: /usr/bin/python3 make_synthetic.py
"""
import numpy as np

countries = ["USA", "CHN", "DEU", "JPN", "ROW"]
sectors = ["A01_02", "B05_06", "C20", "C26", "C29", "G"]
# invented size of each economy (share of world final demand) and of each sector's final use
size = np.array([0.25, 0.20, 0.08, 0.07, 0.40])
final_use = np.array([0.04, 0.02, 0.05, 0.08, 0.10, 0.71])
# invented input structure (rows: input sector, columns: using sector), column sums < 0.6
a_sector = np.array([
    [0.10, 0.00, 0.03, 0.00, 0.00, 0.02],
    [0.02, 0.10, 0.15, 0.02, 0.02, 0.01],
    [0.05, 0.02, 0.15, 0.06, 0.05, 0.01],
    [0.00, 0.01, 0.01, 0.20, 0.08, 0.02],
    [0.00, 0.00, 0.00, 0.00, 0.12, 0.01],
    [0.06, 0.05, 0.08, 0.08, 0.10, 0.15],
])
rng = np.random.default_rng(2024)
R, S = len(countries), len(sectors)
n = R * S
# trade shares: a buyer in country d sources sector s from country c (home bias 0.7)
trade = np.full((R, R), 0.3 / (R - 1)) + np.eye(R) * (0.7 - 0.3 / (R - 1))
trade = trade * rng.uniform(0.8, 1.2, (R, R))
trade /= trade.sum(axis=0)
A = np.zeros((n, n))
for c in range(R):
    for d in range(R):
        A[c * S:(c + 1) * S, d * S:(d + 1) * S] = a_sector * trade[c, d]
world_fd = 60_000_000.0  # invented world final demand, USD million
fd_cats = ["HFCE", "NPISH", "GGFC", "GFCF", "INVNT", "DPABR"]
cat_share = np.array([0.60, 0.02, 0.16, 0.21, 0.01, 0.0])
F = np.zeros((n, R * len(fd_cats)))
for d in range(R):
    for s in range(S):
        total = world_fd * size[d] * final_use[s]
        for c in range(R):
            v = total * trade[c, d] * rng.uniform(0.9, 1.1)
            for k, share in enumerate(cat_share):
                F[c * S + s, d * len(fd_cats) + k] = round(v * share, 1)
# one negative inventory change (a stock draw-down), as real tables have
F[1 * S + 1, 0 * len(fd_cats) + 4] = -1500.0
f = F.sum(axis=1)
x = np.linalg.solve(np.eye(n) - A, f)
Z = np.round(A * x[None, :], 1)
out = Z.sum(axis=1) + F.sum(axis=1)
tls = np.round(0.02 * x, 1)
va = out - Z.sum(axis=0) - tls

labels = [f"{c}_{s}" for c in countries for s in sectors]
cols = labels + [f"{c}_{k}" for c in countries for k in fd_cats] + ["OUT"]
with open("icio-synthetic.csv", "w") as fh:
    fh.write("# SYNTHETIC: invented numbers in the OECD ICIO 2023 layout, not statistics; "
             "USD million a year. Made by make_synthetic.py (docs/mrio.md).\n")
    fh.write("V1," + ",".join(cols) + "\n")
    for i, lab in enumerate(labels):
        row = list(Z[i]) + list(F[i]) + [out[i]]
        fh.write(lab + "," + ",".join(f"{v:.1f}" for v in row) + "\n")
    fh.write("TLS," + ",".join(f"{v:.1f}" for v in tls) + "," + ",".join("0.0" for _ in fd_cats * R) + ",0.0\n")
    fh.write("VA," + ",".join(f"{v:.1f}" for v in va) + "," + ",".join("" for _ in fd_cats * R) + ",\n")
    fh.write("OUT," + ",".join(f"{v:.1f}" for v in out) + "," + ",".join("" for _ in fd_cats * R) + ",\n")
