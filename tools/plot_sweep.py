#!/usr/bin/python3
"""Outcome of a parameter sweep against one parameter, with the spread over replicates.

    /usr/bin/python3 tools/plot_sweep.py sweep.h5 --by meeting_days [--metric total_shortage]
        [--country JPN] [--material gallium] [--panels 6] [--out FILE] [--format png|svg]

Reads the HDF5 file of `shortfall sweep`: a dimension `run` with one coordinate per sweep axis
(plus replicate, seed, point), summary metrics over (run, country, material) or (run,), and
series over (run, day, country, material). Written defensively: metrics are found by their
first dimension being `run`; without summary metrics, the total of the `shortage` series over
the days is used. Each panel is one (country, material), never a sum over materials; when the
file has `baseline_use`, shortages are shown in days (or % of a day) of the country's normal use.
The line is the median over replicates, the band their full range, the dots each replicate;
other sweep axes get one line per value.
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
            g = f[group] if group else f
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
            self.series = None
            names = [k for k in g if isinstance(g[k], h5py.Dataset)]
            for k in names:
                ds = g[k]
                if ds.ndim == 1 and ds.shape[0] == self.n and k != "run":
                    self.coords[k] = _values(ds)
            for k in names:
                ds = g[k]
                if ds.ndim >= 1 and ds.shape[0] == self.n and k not in self.coords and k != "run":
                    if ds.ndim == 4 and k == "shortage":
                        self.series = ds[()]
                    elif ds.ndim in (1, 3) and ds.dtype.kind in "fiu":
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
            self.baseline_use = g["baseline_use"][()] if "baseline_use" in g else None
            if "total_shortage" not in self.metrics and self.series is not None:
                step = 1.0
                if "day" in g and g["day"].shape[0] > 1:
                    step = float(np.diff(g["day"][()]).mean())
                self.metrics["total_shortage"] = np.nansum(self.series, axis=1) * step
                self.units["total_shortage"] = "units of the material"
                self.long_names["total_shortage"] = "sum of the daily shortage over the run"
        self.replicate = self.coords.get("replicate")


def outcome(sw, metric):
    """(values (run, ...) , y label, dimensionless?) with shortages in days of normal use."""
    v = sw.metrics[metric]
    units = sw.units.get(metric, "")
    if v.ndim == 3 and sw.baseline_use is not None and "material" in units:
        with np.errstate(divide="ignore", invalid="ignore"):
            use = np.where(sw.baseline_use > 0, sw.baseline_use, np.nan)
            if "per day" in units:
                return 100.0 * v / use[None], "%s (%% of normal daily use)" % metric.replace(
                    "_", " "), True
            return v / use[None], "%s (days of normal use)" % metric.replace("_", " "), True
    if v.ndim == 1:
        return v, "%s%s" % (metric.replace("_", " "), " (%s)" % units if units else ""), True
    return v, metric.replace("_", " "), units in ("days", "day", "1", "")


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
    y, ylabel, dimensionless = outcome(sw, metric)
    plots = []  # (title, values per run)
    if y.ndim == 1:
        plots.append((metric.replace("_", " "), y))
    else:
        cs = [sw.countries.index(country)] if country else range(y.shape[1])
        ms = [sw.materials.index(material)] if material else range(y.shape[2])
        pairs = [(c, p) for c in cs for p in ms]
        if dimensionless and not (country or material):
            worst = np.nanmax(np.where(np.isfinite(y), y, -np.inf).reshape(sw.n, -1), axis=1)
            plots.append(("worst country and material", np.where(np.isfinite(worst), worst, 0)))
        score = {cp: np.nanmean(y[:, cp[0], cp[1]]) for cp in pairs}
        pairs = [cp for cp in sorted(pairs, key=lambda cp: -np.nan_to_num(score[cp]))
                 if np.nan_to_num(score[cp]) > 0 or country or material]
        for c, p in pairs[:max(1, panels - len(plots))]:
            unit = sw.material_units[p] if p < len(sw.material_units) else ""
            lab = ylabel if dimensionless else "%s (%s)" % (ylabel, unit)
            plots.append(("%s, %s" % (sw.country_names[c], sw.materials[p].replace("_", " ")),
                          y[:, c, p], lab))
    cols = min(3, len(plots))
    rows = int(np.ceil(len(plots) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows + 0.6), squeeze=False)
    for ax in axes.flat[len(plots):]:
        ax.set_visible(False)
    for ax, pl in zip(axes.flat, plots):
        _panel(ax, sw, by, np.asarray(pl[1], float), pl[0], pl[2] if len(pl) > 2 else ylabel)
    nrep = len(set(sw.replicate.tolist())) if sw.replicate is not None else 1
    fig.suptitle("%s against %s (%d runs; line: median, band: range over %d replicate%s)" % (
        metric.replace("_", " ").capitalize(), by.replace("_", " "), sw.n, nrep,
        "s" if nrep != 1 else ""))
    fig.tight_layout()
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(description="Sweep outcome against one parameter.")
    ap.add_argument("sweep", help="HDF5 file written by `shortfall sweep`")
    ap.add_argument("--by", help="sweep coordinate on the x axis (default: the first axis)")
    ap.add_argument("--metric", help="outcome (default: total_shortage, else the first metric)")
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
        metric = args.metric or ("total_shortage" if "total_shortage" in sw.metrics else
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
    fig.savefig(out, dpi=120, format=os.path.splitext(out)[1][1:] or args.format)
    plt.close(fig)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
