#!/usr/bin/python3
"""Outcome of a parameter sweep against one parameter, with the spread over replicates.

    /usr/bin/python3 sim/plots/plot_sweep.py sweep.h5 --by meeting_days [--metric output_lost_days]
        [--country JPN] [--material gallium] [--panels 6] [--out FILE] [--format png|svg]

Reads the HDF5 file of `shortfall sweep`: its `summary` group holds the run metrics of
docs/model.md section 10 over (run, country, material), the same variables as a run file's
`summary` group, with a `run` dimension and one coordinate per sweep axis (plus replicate,
seed, point). The metrics are read, never recomputed: output lost in days of baseline output
(the default, the headline), peak output loss (% of baseline output), input shortage in days of
baseline use, unmet final demand in days of baseline final use, the same in units of the
material, first shortage day and recovery day (runs not recovered, -1, are left out). A file
with per-run outcomes over (run,) alone is plotted as well. Each panel is one (country,
material), never a sum over materials. The line is the median over replicates, the band their
full range, the dots each replicate; other sweep axes get one line per value.
"""
import argparse
import os
import sys
import warnings

import numpy as np

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import h5py  # noqa: E402

# All-NaN columns (materials nobody uses in a country) are expected; their NaNs are handled.
warnings.filterwarnings("ignore", message="(Mean of empty slice|All-NaN slice)")

NOT_AXES = {"run", "replicate", "seed", "point", "day", "country", "material"}
DEFAULT_METRIC = "output_lost_days"
# The run metrics of docs/model.md section 10: (axis label, scale); "{unit}" is the material's.
LABELS = {
    "output_lost_days": ("output lost (days of baseline output)", 1.0),
    "peak_output_loss": ("peak output loss (% of baseline output)", 100.0),
    "shortage_days": ("input shortage (days of baseline use)", 1.0),
    "unmet_final_demand_days": ("unmet final demand (days of baseline final use)", 1.0),
    "output_lost_units": ("output lost ({unit})", 1.0),
    "unmet_final_demand_units": ("unmet final demand ({unit})", 1.0),
    "first_shortage_day": ("first day of input shortage (day)", 1.0),
    "recovery_day": ("recovery day (day; runs not recovered left out)", 1.0),
}
DAY_METRICS = ("first_shortage_day", "recovery_day")


def _strings(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _attr(obj, name, default=None):
    v = obj.attrs.get(name, default)
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray) and v.shape == ():
        return v.item()
    return v


def _values(ds):
    v = ds[()]
    if v.dtype.kind in ("S", "O", "U"):
        return np.array(_strings(v), dtype=object)
    return v


class Sweep:
    def __init__(self, path, group=None):
        self.path = path
        with h5py.File(path, "r") as f:
            if group:
                g = f[group]
            elif "summary" in f and "run" in f["summary"]:
                g = f["summary"]  # a `shortfall sweep` file: its run metrics
            else:
                g = f
                if "run" not in g:
                    # Look one level down for a group with a `run` dimension.
                    for k in g:
                        if isinstance(g[k], h5py.Group) and "run" in g[k]:
                            g = g[k]
                            break
            if "run" not in g:
                raise KeyError("no 'run' dimension (is this a `shortfall sweep` output?)")
            self.n = g["run"].shape[0]
            axes = _attr(g, "axes") or _attr(f, "axes")
            self.coords = {}
            self.metrics = {}
            self.units = {}
            self.long_names = {}
            names = [k for k in g if isinstance(g[k], h5py.Dataset)]
            for k in names:
                ds = g[k]
                if ds.ndim == 1 and ds.shape[0] == self.n and k != "run":
                    self.coords[k] = _values(ds)
            for k in names:
                ds = g[k]
                if ds.ndim >= 1 and ds.shape[0] == self.n and k not in self.coords and k != "run":
                    if ds.ndim in (1, 3) and ds.dtype.kind in "fiu":
                        self.metrics[k] = ds[()].astype(float)
                    self.units[k] = _attr(ds, "units", "")
                    self.long_names[k] = _attr(ds, "long_name", "")
                elif ds.ndim == 1 and ds.shape[0] == self.n and k in self.coords and \
                        ds.dtype.kind in "fiu" and k not in NOT_AXES and axes is None and \
                        k.endswith(("_share", "_lost", "_loss")):
                    # A per-run outcome with no `axes` attribute to tell it from an axis.
                    self.metrics[k] = ds[()].astype(float)
            self.axes = axes.split() if isinstance(axes, str) and axes.strip() else [
                k for k in self.coords if k not in NOT_AXES and k not in self.metrics]
            self.countries = _strings(g["country"][()]) if "country" in g else []
            self.country_names = (_strings(g["country_name"][()]) if "country_name" in g
                                  else list(self.countries))
            self.materials = _strings(g["material"][()]) if "material" in g else []
            self.material_units = (_strings(g["material_unit"][()]) if "material_unit" in g
                                   else [""] * len(self.materials))
            # The materials' names (a sweep file keeps them in its country_material group).
            names_at = next((h for h in (g, f.get("country_material"))
                             if h is not None and "material_name" in h), None)
            self.material_names = (_strings(names_at["material_name"][()]) if names_at is not None
                                   else [m.replace("_", " ") for m in self.materials])
        self.replicate = self.coords.get("replicate")


def outcome(sw, metric):
    """(values (run, ...), y label, per-material unit in the label?) of a metric as stored;
    the metrics of section 10 get their units, peak output loss in %, and day metrics lose the
    runs that never reached the day (-1)."""
    v = sw.metrics[metric]
    if metric in LABELS:
        label, scale = LABELS[metric]
        v = v * scale
        if metric in DAY_METRICS:
            v = np.where(v < 0, np.nan, v)
        return v, label, "{unit}" in label
    units = sw.units.get(metric, "")
    return v, "%s%s" % (metric.replace("_", " "), " (%s)" % units if units else ""), False


def _x_values(sw, by):
    x = sw.coords[by]
    if x.dtype == object:
        cats = list(dict.fromkeys(x.tolist()))
        return np.array([cats.index(v) for v in x], float), cats
    return x.astype(float), None


def _panel(ax, sw, by, y, title, ylabel):
    x, cats = _x_values(sw, by)
    others = [a for a in sw.axes if a != by and a in sw.coords]
    keys = [tuple(sw.coords[a][k] for a in others) for k in range(sw.n)] if others else [()] * sw.n
    groups = list(dict.fromkeys(keys))
    if len(groups) > 8:  # too many combinations: pool them as replicates
        keys, groups, others = [()] * sw.n, [()], []
    for gi, key in enumerate(groups):
        idx = np.array([k for k in range(sw.n) if keys[k] == key])
        xs = np.unique(x[idx])
        med, lo, hi = [], [], []
        for xv in xs:
            vals = y[idx[x[idx] == xv]]
            vals = vals[np.isfinite(vals)]
            med.append(np.median(vals) if len(vals) else np.nan)
            lo.append(vals.min() if len(vals) else np.nan)
            hi.append(vals.max() if len(vals) else np.nan)
        label = ", ".join("%s = %s" % (a, v) for a, v in zip(others, key)) or "median"
        line, = ax.plot(xs, med, marker="o", lw=1.8, label=label)
        ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.18, lw=0)
        span = (xs.max() - xs.min()) if len(xs) > 1 else 1.0
        jitter = (np.random.default_rng(gi).random(len(idx)) - 0.5) * 0.02 * span
        ax.scatter(x[idx] + jitter, y[idx], s=10, color=line.get_color(), alpha=0.6, lw=0)
    if cats is not None:
        ax.set_xticks(range(len(cats)))
        ax.set_xticklabels(cats)
    ax.set_xlabel(by.replace("_", " "))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=min(0, np.nanmin(y) if np.isfinite(y).any() else 0))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def make_figure(sw, by, metric, country=None, material=None, panels=6):
    if by not in sw.coords:
        raise KeyError("no coordinate '%s' along run; the sweep has: %s" % (
            by, ", ".join(k for k in sw.coords if k not in ("run",)) or "none"))
    if metric not in sw.metrics:
        raise KeyError("no metric '%s'; the sweep has: %s" % (metric, ", ".join(sw.metrics) or
                                                             "none"))
    y, ylabel, per_unit = outcome(sw, metric)
    plots = []  # (title, values per run, y label)
    if y.ndim == 1:
        plots.append((metric.replace("_", " "), y, ylabel))
    else:
        cs = [sw.countries.index(country)] if country else range(y.shape[1])
        ms = [sw.materials.index(material)] if material else range(y.shape[2])
        pairs = [(c, p) for c in cs for p in ms]
        # Pairs worst first by the metric's mean over the runs; one material per panel.
        score = {cp: np.nanmean(y[:, cp[0], cp[1]]) if np.isfinite(y[:, cp[0], cp[1]]).any()
                 else 0.0 for cp in pairs}
        pairs = [cp for cp in sorted(pairs, key=lambda cp: -np.nan_to_num(score[cp]))
                 if np.nan_to_num(score[cp]) > 0 or country or material]
        for c, p in pairs[:max(1, panels)]:
            unit = sw.material_units[p] if p < len(sw.material_units) else ""
            lab = ylabel.replace("{unit}", unit or "units of the material") if per_unit \
                else ylabel
            plots.append(("%s, %s" % (sw.country_names[c], sw.material_names[p]),
                          y[:, c, p], lab))
    cols = min(3, len(plots))
    rows = int(np.ceil(len(plots) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(max(8.5, 5.2 * cols), 3.8 * rows + 0.6),
                             squeeze=False)
    for ax in axes.flat[len(plots):]:
        ax.set_visible(False)
    for ax, pl in zip(axes.flat, plots):
        _panel(ax, sw, by, np.asarray(pl[1], float), pl[0], pl[2])
    nrep = len(set(sw.replicate.tolist())) if sw.replicate is not None else 1
    name = LABELS[metric][0].split(" (")[0] if metric in LABELS else metric.replace("_", " ")
    fig.suptitle("%s against %s (%d runs; line: median, band: range over %d replicate%s)" % (
        name.capitalize(), by.replace("_", " "), sw.n, nrep,
        "s" if nrep != 1 else ""))
    fig.tight_layout()
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(description="Sweep outcome against one parameter.")
    ap.add_argument("sweep", help="HDF5 file written by `shortfall sweep`")
    ap.add_argument("--by", help="sweep coordinate on the x axis (default: the first axis)")
    ap.add_argument("--metric", help="a variable of the summary group (default: %s, else the "
                    "first metric)" % DEFAULT_METRIC)
    ap.add_argument("--country", help="only this country code")
    ap.add_argument("--material", help="only this material id")
    ap.add_argument("--panels", type=int, default=6, help="most panels (default 6)")
    ap.add_argument("--group", help="HDF5 group holding the sweep (default: found)")
    ap.add_argument("--out", help="picture file (default: <stem>_by_<by>.<format>)")
    ap.add_argument("--format", choices=("png", "svg"), default="png")
    args = ap.parse_args(argv)
    try:
        sw = Sweep(args.sweep, args.group)
        by = args.by or (sw.axes[0] if sw.axes else None)
        if by is None:
            raise KeyError("the sweep has no axis; name one with --by")
        metric = args.metric or (DEFAULT_METRIC if DEFAULT_METRIC in sw.metrics else
                                 next(iter(sw.metrics), None))
        if metric is None:
            raise KeyError("no metric along run in the file")
        for name, known in ((args.country, sw.countries), (args.material, sw.materials)):
            if name and name not in known:
                raise KeyError("unknown '%s'; expected one of: %s" % (name, ", ".join(known)))
        fig = make_figure(sw, by, metric, args.country, args.material, args.panels)
    except (OSError, KeyError) as e:
        print("error: %s: %s" % (args.sweep, e.args[0] if e.args else e), file=sys.stderr)
        return 2
    out = args.out or "%s_by_%s.%s" % (os.path.splitext(args.sweep)[0], by, args.format)
    if os.path.dirname(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
    fig.savefig(out, dpi=120, format=os.path.splitext(out)[1][1:] or args.format,
                bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
