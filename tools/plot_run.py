#!/usr/bin/python3
"""Pictures of one shortfall run (the HDF5 file written by `shortfall run`).

    /usr/bin/python3 tools/plot_run.py outputs/run.h5 [--outdir DIR] [--format png|svg]

Writes, into DIR (default: <file stem>_plots next to the file):
  output_lost_by_material  output lost (the headline), one panel per material, one line per
                           country (units of the material per day)
  shortage_by_material     input shortage, one panel per material, one line per country
                           (units of the material per day)
  shortage_by_country      input shortage, one panel per country, one line per material (% of
                           the country's baseline daily use of it)
  loss_heatmap             country x material: output lost in days of baseline output and input
                           shortage in days of baseline use, read from the `summary` group
  propagation_front        share of firms that have received less than they ordered, by day
  inventory_cover          days of cover held by users, one panel per material
The series and metrics are those of docs/model.md section 10, read from the file (the metrics
from its `summary` group, never recomputed); order_backlog, a diagnostic, is not drawn.
Quantities of different materials are never added: each panel or line is one material, or a
dimensionless ratio. Uses Debian's python3 with h5py, numpy and matplotlib (Agg backend).
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

FIGURES = ("output_lost_by_material", "shortage_by_material", "shortage_by_country",
           "loss_heatmap", "propagation_front", "inventory_cover")
# The `summary` group's variables (docs/model.md section 10), as `shortfall run` writes them.
SUMMARY = ("output_lost_days", "peak_output_loss", "shortage_days", "unmet_final_demand_days",
           "output_lost_units", "unmet_final_demand_units", "first_shortage_day", "recovery_day")
# kNoiseShare of include/shortfall/metrics.hpp: a metric at or below this share of its baseline
# counts as none (RunMetrics::affected).
NOISE_SHARE = 1e-9
TIER_ORDER = ("raw", "processed", "component", "end")


def _strings(ds):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in ds[()]]


def _attr(obj, name, default=None):
    if name not in obj.attrs:
        return default
    v = obj.attrs[name]
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray) and v.shape == ():
        return v.item()
    return v


def _world_materials(scenario_text, h5_path):
    """Material names and tiers from the scenario's world file, when it can be found and read.

    The run output stores material ids and units only; names and tiers make better labels. The
    world path in the scenario is relative to the scenario file, which the output does not
    record, so a few likely folders are tried. Returns {} when nothing is found.
    """
    try:
        import yaml  # Debian python3-yaml; optional
    except ImportError:
        return {}
    try:
        world = (yaml.safe_load(scenario_text) or {}).get("world")
    except Exception:
        return {}
    if not isinstance(world, str):
        return {}
    here = os.path.dirname(os.path.abspath(h5_path))
    roots = [os.getcwd(), os.path.join(os.getcwd(), "scenarios"), here,
             os.path.join(here, "..", "scenarios")]
    src = os.environ.get("SHORTFALL_SOURCE_DIR")
    if src:
        roots.append(os.path.join(src, "scenarios"))
    roots.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios"))
    for root in roots:
        path = os.path.join(root, world)
        if not os.path.isfile(path):
            continue
        try:
            with open(path) as f:
                doc = yaml.safe_load(f)
            out = {}
            for m in doc.get("materials", []) or []:
                if isinstance(m, dict) and "id" in m:
                    out[str(m["id"])] = {"name": str(m.get("name", m["id"])),
                                         "tier": str(m.get("tier", ""))}
            return out
        except Exception:
            return {}
    return {}


class Run:
    """The parts of a run output that the pictures need, as numpy arrays."""

    def __init__(self, path):
        self.path = path
        with h5py.File(path, "r") as f:
            cm = f["country_material"]
            self.days = cm["day"][()].astype(int)
            self.countries = _strings(cm["country"])
            self.country_names = (_strings(cm["country_name"]) if "country_name" in cm
                                  else list(self.countries))
            self.materials = _strings(cm["material"])
            self.units = (_strings(cm["material_unit"]) if "material_unit" in cm
                          else ["units"] * len(self.materials))
            self.shortage = cm["shortage"][()]  # the input shortage (model 10)
            self.output_lost = cm["output_lost"][()]
            self.unmet_final = cm["unmet_final_demand"][()]
            self.production = cm["production"][()]
            self.baseline_output = cm["baseline_output"][()]
            self.baseline_final_use = cm["baseline_final_use"][()]
            # The run metrics of model 10, as `shortfall run` printed and wrote them.
            sg = f["summary"]
            self.summary = {k: sg[k][()] for k in SUMMARY}
            self.summary_days = int(_attr(sg, "days", len(self.days)))
            self.values = ({k: sg[k][()] for k in ("output_lost_value",
                                                    "unmet_final_demand_value")}
                           if "output_lost_value" in sg else None)
            self.inventory = cm["inventory_days"][()] if "inventory_days" in cm else None
            self.scenario = _attr(f, "scenario", "") or ""
            self.scenario_name = _attr(f, "scenario_name", "") or os.path.basename(path)
            self.seed = _attr(f, "seed")
            self.program_version = _attr(f, "program_version", "")
            self.world_sha256 = _attr(f, "world_sha256", "")
            self.baseline_use = cm["baseline_use"][()]
            names = _strings(cm["material_name"]) if "material_name" in cm else None
            tiers = _strings(cm["material_tier"]) if "material_tier" in cm else None
            fg = f["firm"] if "firm" in f else None
            if fg is not None:
                self.firm_material = _strings(fg["material"])
                self.firm_first = fg["first_shortage_day"][()].astype(int)
                self.firm_baseline = fg["baseline_output"][()]
                fmat = {m: k for k, m in enumerate(self.materials)}
                self.firm_material_index = np.array([fmat[m] for m in self.firm_material], int)
            else:
                self.firm_material = None
            self.events = []
            if "events" in f and "day" in f["events"]:
                ev = f["events"]
                n = ev["day"].shape[0]
                if n:
                    days = ev["day"][()]
                    types = _strings(ev["type"])
                    desc = _strings(ev["description"])
                    self.events = [(int(days[k]), types[k], desc[k]) for k in range(n)]
        info = _world_materials(self.scenario, path) if (names is None or tiers is None) else {}
        self.material_names = names or [info.get(m, {}).get("name") or m.replace("_", " ")
                                        for m in self.materials]
        self.material_tiers = tiers or [info.get(m, {}).get("tier", "") for m in self.materials]
        starts = [d for d, t, _ in self.events if not t.startswith("end:")]
        self.shock_day = min(starts) if starts else int(self.days[0]) if len(self.days) else 0
        self.t = self.days - self.shock_day
        # Baseline output of each (country, material) and the world's output of each material,
        # from the firms' baseline output (exact, whatever happened on day 0).
        self.world_output = np.zeros(len(self.materials))
        if self.firm_material is not None:
            np.add.at(self.world_output, self.firm_material_index, self.firm_baseline)

    # ---- labels ----
    def mat_label(self, p):
        return "%s (%s)" % (self.material_names[p], self.units[p])

    @property
    def xlabel(self):
        if self.events:
            return "days since the shock (day %d)" % self.shock_day
        return "day"

    def affected(self):
        """(country, material) pairs with some output lost, input shortage or unmet final
        demand (RunMetrics::affected), worst first by output lost, then input shortage, then
        unmet final demand: the rows of `shortfall run`'s summary, in its order."""
        m = self.summary
        lost, short, unmet = (m["output_lost_days"], m["shortage_days"],
                              m["unmet_final_demand_days"])
        C, M = lost.shape
        keys = [(c, p) for c in range(C) for p in range(M)
                if lost[c, p] > NOISE_SHARE or short[c, p] > NOISE_SHARE
                or unmet[c, p] > NOISE_SHARE]
        keys.sort(key=lambda cp: (-lost[cp], -short[cp], -unmet[cp], cp[0] * M + cp[1]))
        return keys


def _grid(n, max_cols=3, w=5.0, h=3.2):
    cols = min(max_cols, max(1, n))
    rows = int(np.ceil(n / cols)) if n else 1
    fig, axes = plt.subplots(rows, cols, figsize=(max(8.5, w * cols), h * rows + 0.8),
                             squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _shock_marker(ax, run):
    """Dotted lines where events start, dashed where they end."""
    seen = set()
    for day, kind, _ in run.events:
        key = (day, kind.startswith("end:"))
        if key in seen:
            continue
        seen.add(key)
        ax.axvline(day - run.shock_day, color="0.5", lw=0.8, ls="--" if key[1] else ":")


def _empty(title, text):
    fig, ax = plt.subplots(figsize=(8, 2.5))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12)
    fig.suptitle(title)
    return fig


def _series_by_material(run, series, metric, title, what, note, max_panels=12, max_lines=8):
    """One panel per material, one line per country: a daily series in units of the material,
    pairs ordered by the summary metric `metric` (days of its baseline)."""
    days = run.summary[metric]  # (country, material)
    mats = [p for p in np.argsort(-days.max(axis=0), kind="stable")
            if days[:, p].max() > NOISE_SHARE][:max_panels]
    if not mats:
        return _empty(title, "No %s in any country." % what)
    fig, axes = _grid(len(mats))
    for ax, p in zip(axes, mats):
        order = [c for c in np.argsort(-days[:, p], kind="stable")
                 if days[c, p] > NOISE_SHARE][:max_lines]
        for c in order:
            ax.plot(run.t, series[:, c, p], lw=1.5, label=run.country_names[c])
        ax.set_title(run.material_names[p])
        ax.set_ylabel("%s (%s per day)" % (what, run.units[p]))
        ax.set_xlabel(run.xlabel)
        ax.set_ylim(bottom=0)
        _shock_marker(ax, run)
        ax.legend(fontsize=8, loc="upper right")
        ax.grid(alpha=0.3)
    fig.suptitle("%s (%s)" % (title, note))
    fig.tight_layout()
    return fig


def fig_output_lost_by_material(run, max_panels=12, max_lines=8):
    return _series_by_material(run, run.output_lost, "output_lost_days",
                               "Output lost of each material by country", "output lost",
                               "baseline output minus production, summed over the makers",
                               max_panels, max_lines)


def fig_shortage_by_material(run, max_panels=12, max_lines=8):
    return _series_by_material(run, run.shortage, "shortage_days",
                               "Input shortage of each material by country", "input shortage",
                               "what its users lacked to make what they could sell",
                               max_panels, max_lines)


def fig_shortage_by_country(run, max_panels=12, max_lines=8):
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = 100.0 * run.shortage / np.where(run.baseline_use > 0, run.baseline_use,
                                              np.nan)[None, :, :]
    pct = np.where(np.isfinite(pct), pct, 0.0)
    days = run.summary["shortage_days"]  # (country, material): per material, never summed
    worst = days.max(axis=1) if days.size else np.zeros(0)
    countries = [c for c in np.argsort(-worst, kind="stable") if worst[c] > NOISE_SHARE][
        :max_panels]
    title = "Input shortage in each country by material"
    if not countries:
        return _empty(title, "No input shortage in any country.")
    fig, axes = _grid(len(countries))
    for ax, c in zip(axes, countries):
        order = [p for p in np.argsort(-days[c], kind="stable") if days[c, p] > NOISE_SHARE][
            :max_lines]
        for p in order:
            ax.plot(run.t, pct[:, c, p], lw=1.5, label=run.material_names[p])
        ax.set_title(run.country_names[c])
        ax.set_ylabel("input shortage (% of baseline daily use)")
        ax.set_xlabel(run.xlabel)
        ax.set_ylim(bottom=0)
        _shock_marker(ax, run)
        ax.legend(fontsize=8, loc="upper right")
        ax.grid(alpha=0.3)
    fig.suptitle("%s (%% of the country's baseline daily use)" % title)
    fig.tight_layout()
    return fig


def fig_loss_heatmap(run, max_rows=30, max_cols=40):
    """Output lost (days of baseline output) and input shortage (days of baseline use) per
    country and material, from the summary group."""
    title = "Losses over the run by country and material"
    keys = run.affected()
    if not keys:
        return _empty(title, "No output lost, no input shortage and no unmet final demand.")
    rows = list(dict.fromkeys(c for c, _ in keys))[:max_rows]
    cols = list(dict.fromkeys(p for _, p in keys))[:max_cols]
    panels = [("output_lost_days", run.baseline_output,
               "output lost (days of baseline output)"),
              ("shortage_days", run.baseline_use, "input shortage (days of baseline use)")]
    w = max(5.0, 1.2 + 0.9 * len(cols))
    fig, axes = plt.subplots(1, 2, figsize=(2 * w, max(3.2, 1.8 + 0.45 * len(rows))),
                             squeeze=False)
    for ax, (metric, base, label) in zip(axes.flat, panels):
        data = run.summary[metric][np.ix_(rows, cols)]
        defined = base[np.ix_(rows, cols)] > 0
        shown = np.where(defined, data, np.nan)
        im = ax.imshow(shown, cmap="Reds", aspect="auto", vmin=0,
                       vmax=max(np.nanmax(shown) if np.isfinite(shown).any() else 0, 1e-12))
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels([run.material_names[p] for p in cols], rotation=35, ha="right")
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([run.country_names[c] for c in rows])
        vmax = np.nanmax(shown) if np.isfinite(shown).any() else 0
        for i in range(len(rows)):
            for j in range(len(cols)):
                if not defined[i, j]:
                    ax.text(j, i, "-", ha="center", va="center", fontsize=8, color="0.5")
                elif data[i, j] > NOISE_SHARE:
                    ax.text(j, i, "%.3g" % data[i, j], ha="center", va="center", fontsize=8,
                            color="white" if data[i, j] > 0.6 * vmax else "black")
        fig.colorbar(im, ax=ax)
        ax.set_title(label)
    fig.suptitle("%s\n(the run summary; '-': the country has no makers, or no users, of it)"
                 % title)
    fig.tight_layout()
    return fig


def fig_propagation_front(run, max_lines=10):
    title = "How far the shock travelled: share of firms short of an input"
    if run.firm_material is None or not len(run.days):
        return _empty(title, "The output has no firm-level data.")
    first = run.firm_first
    reached = first >= 0
    t = run.t
    groups = []  # (label, mask)
    tiers = [run.material_tiers[p] for p in run.firm_material_index]
    known = [tt for tt in TIER_ORDER if tt in tiers] + sorted(
        set(tt for tt in tiers if tt and tt not in TIER_ORDER))
    by_tier = len(known) > 1
    if by_tier:
        for tt in known:
            groups.append((tt, np.array([x == tt for x in tiers])))
    mats = [p for p in range(len(run.materials)) if (run.firm_material_index == p).any()]
    mats.sort(key=lambda p: -(reached & (run.firm_material_index == p)).mean())
    mat_groups = [(run.material_names[p], run.firm_material_index == p) for p in mats][:max_lines]
    fig, axes = plt.subplots(1, 2 if by_tier else 1, figsize=(13 if by_tier else 7.5, 4.3),
                             squeeze=False)
    panels = ([("By tier of the firm's product", groups)] if by_tier else []) + [
        ("By the firm's product", mat_groups)]
    for ax, (name, gs) in zip(axes.flat, panels):
        for label, mask in gs:
            n = mask.sum()
            if n == 0:
                continue
            share = [(reached & mask & (first <= d)).sum() / n for d in run.days]
            ax.step(t, 100.0 * np.array(share), where="post", lw=1.6,
                    label="%s (%d firms)" % (label, n))
        ax.set_title(name)
        ax.set_xlabel(run.xlabel)
        ax.set_ylabel("firms that received less than they ordered (%)")
        ax.set_ylim(0, 105)
        _shock_marker(ax, run)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(title + " (the propagation front; firms without inputs are never short)")
    fig.tight_layout()
    return fig


def fig_inventory_cover(run, max_panels=12, max_lines=8):
    title = "Inventory cover held by users of each material"
    if run.inventory is None:
        return _empty(title, "The output has no inventory data.")
    inv = run.inventory
    finite = np.isfinite(inv)
    hi = np.where(finite, inv, -np.inf).max(axis=0)
    lo = np.where(finite, inv, np.inf).min(axis=0)
    with np.errstate(invalid="ignore"):
        drop = hi - lo  # (country, material); NaN/inf where nobody uses the material
    drop = np.where(np.isfinite(drop), drop, 0.0)
    mats = [p for p in np.argsort(-drop.max(axis=0)) if drop[:, p].max() > 1e-9][:max_panels]
    if not mats:
        return _empty(title, "Inventories stayed at their baseline level.")
    fig, axes = _grid(len(mats))
    for ax, p in zip(axes, mats):
        order = [c for c in np.argsort(-drop[:, p]) if drop[c, p] > 1e-9][:max_lines]
        for c in order:
            ax.plot(run.t, inv[:, c, p], lw=1.5, label=run.country_names[c])
        ax.set_title(run.material_names[p])
        ax.set_ylabel("days of cover (stock / daily use)")
        ax.set_xlabel(run.xlabel)
        ax.set_ylim(bottom=0)
        _shock_marker(ax, run)
        ax.legend(fontsize=8, loc="upper right")
        ax.grid(alpha=0.3)
    fig.suptitle(title + " (days of normal use the stock would last)")
    fig.tight_layout()
    return fig


BUILDERS = {
    "output_lost_by_material": fig_output_lost_by_material,
    "shortage_by_material": fig_shortage_by_material,
    "shortage_by_country": fig_shortage_by_country,
    "loss_heatmap": fig_loss_heatmap,
    "propagation_front": fig_propagation_front,
    "inventory_cover": fig_inventory_cover,
}


def make_figures(run):
    """[(name, matplotlib Figure)] in the order of FIGURES."""
    return [(name, BUILDERS[name](run)) for name in FIGURES]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Pictures of one shortfall run (HDF5 output).")
    ap.add_argument("output", help="HDF5 file written by `shortfall run`")
    ap.add_argument("--outdir", help="folder for the pictures (default: <stem>_plots beside it)")
    ap.add_argument("--format", choices=("png", "svg"), default="png")
    ap.add_argument("--dpi", type=int, default=120)
    args = ap.parse_args(argv)
    try:
        run = Run(args.output)
    except (OSError, KeyError) as e:
        print("error: %s: not a shortfall run output (%s)" % (args.output, e), file=sys.stderr)
        return 2
    outdir = args.outdir or os.path.splitext(args.output)[0] + "_plots"
    os.makedirs(outdir, exist_ok=True)
    for name, fig in make_figures(run):
        path = os.path.join(outdir, "%s.%s" % (name, args.format))
        fig.savefig(path, dpi=args.dpi, format=args.format)
        plt.close(fig)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
