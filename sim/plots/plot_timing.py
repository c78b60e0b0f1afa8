#!/usr/bin/python3
"""Compare runs that differ in one setting (e.g. an IPEF meeting after 5, 15 or 30 days, or
none): output lost and unmet final demand per country and material, one bar per run.

    sim/plots/plot_timing.py --out outputs/ipef-timing.png \\
        --run "5 days=outputs/ipef-response-timing-5.h5" \\
        --run "15 days=outputs/ipef-response-timing-15.h5" \\
        --run "30 days=outputs/ipef-response-timing-30.h5" \\
        --run "no mechanism=outputs/ipef-response-timing-none.h5" \\
        --countries USA JPN KOR AUS NZL IND FJI IDN THA PHL MYS SGP VNM BRN \\
        --title "IPEF meeting after 5, 15 or 30 days: what members lose (gallium ban, 341 days)"

Reads each file's `summary` group (docs/model.md section 10, the numbers `shortfall run`
prints). Shows the (country, material) pairs with more than --min-days of output lost or
unmet final demand in any run, largest first.
"""
import argparse
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def read(path):
    with h5py.File(path, "r") as f:
        g = f["summary"]
        dec = lambda a: [x.decode() if isinstance(x, bytes) else str(x) for x in a]  # noqa: E731
        names = dec(f["country_material/material_name"][:]) if "country_material/material_name" in f else None
        return (dec(g["country"][:]), dec(g["material"][:]), g["output_lost_days"][:],
                g["unmet_final_demand_days"][:], names)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", action="append", required=True, metavar="LABEL=FILE",
                    help="a run file and its label, in the order to show")
    ap.add_argument("--countries", nargs="*", help="countries to show (default: all)")
    ap.add_argument("--min-days", type=float, default=0.5,
                    help="show pairs above this many days in some run (default 0.5)")
    ap.add_argument("--title", default="What each run costs, by country and material")
    ap.add_argument("--out", required=True, help="PNG file to write")
    a = ap.parse_args(argv)

    runs = []
    for spec in a.run:
        if "=" not in spec:
            sys.exit(f"plot_timing: --run expects LABEL=FILE, found '{spec}'")
        label, path = spec.split("=", 1)
        runs.append((label, read(path)))
    C, M, _, _, names = runs[0][1]
    for label, (c, m, *_rest) in runs[1:]:
        if c != C or m != M:
            sys.exit(f"plot_timing: run '{label}' has other countries or materials than the first")
    keep = [i for i, c in enumerate(C) if not a.countries or c in a.countries]
    lost = np.stack([r[2] for _, r in runs])    # run, country, material
    unmet = np.stack([r[3] for _, r in runs])
    pairs = [(i, j) for i in keep for j in range(len(M))
             if max(lost[:, i, j].max(), unmet[:, i, j].max()) > a.min_days]
    if not pairs:
        sys.exit(f"plot_timing: no pair above {a.min_days} days in any run")
    pairs.sort(key=lambda p: -max(lost[:, p[0], p[1]].max(), unmet[:, p[0], p[1]].max()))
    label_of = lambda i, j: f"{C[i]} {M[j]}"  # noqa: E731  (ids: what scenarios and info use)

    colors = plt.cm.viridis(np.linspace(0.1, 0.85, len(runs)))
    h = 0.8 / len(runs)
    fig, axes = plt.subplots(1, 2, figsize=(11, 1.6 + 0.3 * len(pairs) * len(runs)),
                             sharey=True, constrained_layout=True)
    y = np.arange(len(pairs))
    for ax, data, what in ((axes[0], lost, "Output lost\n(days of the country's baseline output)"),
                           (axes[1], unmet, "Unmet final demand\n(days of its final users' use)")):
        for k, (label, _) in enumerate(runs):
            v = [data[k, i, j] for i, j in pairs]
            bars = ax.barh(y - 0.4 + h * (k + 0.5), v, height=h, color=colors[k], label=label)
            ax.bar_label(bars, fmt="%.1f", padding=2, fontsize=7)
        ax.set_xlabel(what)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlim(0, max(1.0, data[:, [p[0] for p in pairs], [p[1] for p in pairs]].max()) * 1.18)
    axes[0].set_yticks(y, [label_of(i, j) for i, j in pairs])
    axes[0].invert_yaxis()
    # Outside the axes, so that no bar is hidden behind it.
    axes[1].legend(title="run", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.suptitle(a.title, fontsize=11)
    fig.savefig(a.out, dpi=130)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
