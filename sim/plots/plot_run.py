#!/usr/bin/python3
"""Pictures of one shortfall run (the HDF5 file written by `shortfall run`).

    /usr/bin/python3 sim/plots/plot_run.py outputs/run.h5 [--outdir DIR] [--format png|svg]

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
import textwrap
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


# ---- events: each marked once ----
# Policy actions drawn as vertical lines, one legend entry per kind: (label, line style, colour).
ACTION_STYLE = {
    "crisis_request": ("meeting requested", ":", "0.35"),
    "crisis_meeting": ("emergency meeting", "--", "0.15"),
    "crisis_implementation": ("measures take effect", "-.", "0.15"),
    "crisis_match": ("new supplier link (crisis match)", "-", "0.0"),
    "supplier_switch": ("buyer takes on a new supplier", (0, (1, 3)), "0.0"),
}
SHOCK_COLOR, POLICY_SPAN_COLOR, STOCKPILE_COLOR = "#d62728", "#ff7f0e", "#2ca02c"
# Shock spans share one colour; a shock whose days overlap an earlier shock's is hatched (the
# first such with forward slashes, the next with back slashes, ...), so that overlapping
# shocks (export controls on two materials at once) can be told apart on the panels. Shocks
# one after another stay plain.
SHOCK_HATCHES = ("///", "\\\\\\", "...", "xxx", "++")
# The types of EventRecord written by policies (sim/policies/policies.cpp); every other type is a
# scenario event, drawn as a shaded span from its start to its `end:` record.
POLICY_TYPES = set(ACTION_STYLE) | {"stockpile_release", "surge"}


def short_name(name, width=30):
    """A long name shortened for legends and tick labels: 'Rest of world (MDG, MOZ, TZA, ...)'
    keeps its head and as many of the listed codes as fit."""
    if len(name) <= width:
        return name
    head, paren, rest = name.partition(" (")
    if paren and len(head) < width - 4:
        items = [s.strip() for s in rest.rstrip(")").split(",")]
        items = [s for s in items if s and s not in ("...", "…")]
        kept = []
        for it in items:
            if len("%s (%s, …)" % (head, ", ".join(kept + [it]))) > width:
                break
            kept.append(it)
        return "%s (%s…)" % (head, ", ".join(kept) + ", " if kept else "")
    return name[:width - 1].rstrip() + "…"


def wrap(text, width):
    """Lines of about `width` characters, broken between words, after hyphens and after
    slashes ("etching/" "cleaning"); a word still longer than the width is left whole unless it
    is much longer (an id without spaces), which is split."""
    mark = "\x01"  # a break after each slash, taken out again below
    pieces = text.replace("/", "/" + mark + " ")
    lines = textwrap.wrap(pieces, width, break_long_words=False)
    if any(len(line) > width * 3 // 2 for line in lines):
        lines = textwrap.wrap(pieces, width)
    return "\n".join(line.replace(mark + " ", "").replace(mark, "") for line in lines) or text


def _day_list(days, limit=4):
    days = sorted(set(days))
    if len(days) <= limit:
        return ", ".join("d%d" % d for d in days)
    return "%d days, d%d–d%d" % (len(days), days[0], days[-1])


def _runs(days):
    """Sorted days as [(first, last)] runs of consecutive days."""
    out = []
    for d in sorted(set(days)):
        if out and d <= out[-1][1] + 1:
            out[-1][1] = d
        else:
            out.append([d, d])
    return [tuple(r) for r in out]


class Mark:
    """One legend entry: shaded spans (t0, t1) or vertical lines at t, in axis coordinates."""

    def __init__(self, label, kind, color, spans=(), lines=(), ls="-", legend_spans=False,
                 hatch=None):
        self.label, self.kind, self.color, self.hatch = label, kind, color, hatch
        self.spans, self.lines, self.ls = list(spans), list(lines), ls
        # A span entry whose shading another entry draws (stockpiles share one shading).
        self.legend_spans = legend_spans or bool(self.spans)


def event_marks(run):
    """The run's events as marks, each event or policy action once (not once per day): scenario
    events and surges as shaded spans from start to end, stockpile releases as one span per
    stretch of consecutive release days, meetings and other actions as one line each."""
    last = int(run.t[-1]) if len(run.t) else 0
    s0 = run.shock_day
    marks = []
    # Scenario events (and surges): start paired with its `end:` record of the same text.
    opened = {}
    spans = []  # (kind, description, start, end or None)
    for day, kind, desc, *_ in run.events:
        base = kind[4:] if kind.startswith("end:") else kind
        if base in POLICY_TYPES and base != "surge":
            continue
        if kind.startswith("end:"):
            k = opened.pop((base, desc), None)
            if k is not None:
                spans[k][3] = day
        else:
            opened[(base, desc)] = len(spans)
            spans.append([base, desc, day, None])
    shock_spans, overlaps = [], 0
    for base, desc, start, end in spans:
        name = desc.split(": ")[0] if ": " in desc else desc
        if base == "surge":
            name = "%s: capacity surge" % name
        t1 = (end - s0) if end is not None else last
        when = "d%d–d%d" % (start - s0, t1) if end is not None else "from d%d" % (start - s0)
        span = (start - s0, t1 if t1 > start - s0 else start - s0 + 0.5)
        hatch = None
        if base != "surge":
            if any(span[0] < b and a < span[1] for a, b in shock_spans):
                hatch = SHOCK_HATCHES[overlaps % len(SHOCK_HATCHES)]
                overlaps += 1
            shock_spans.append(span)
        marks.append(Mark(wrap("%s (%s)" % (name, when), 60), "surge" if base == "surge"
                          else "shock", POLICY_SPAN_COLOR if base == "surge" else SHOCK_COLOR,
                          spans=[span], hatch=hatch))
    # Stockpile releases: one entry for all stockpiles, each summarised.
    by_pile = {}
    for day, kind, desc, country, material, quantity, _ in run.events_full:
        if kind == "stockpile_release":
            key = desc.split(": ")[0]
            by_pile.setdefault(key, []).append((day, material, quantity))
    if by_pile:
        # One shading for the days any stockpile released (spans of consecutive days), one
        # legend entry per stockpile.
        days = [d - s0 for rel in by_pile.values() for d, _, _ in rel]
        spans = [(a, b + 1) for a, b in _runs(days)]
        for k, (key, rel) in enumerate(by_pile.items()):
            total = sum(q for _, _, q in rel)
            rd = [d - s0 for d, _, _ in rel]
            when = _day_list(rd, 2) if len(rd) <= 2 else "%d days, d%d–d%d" % (
                len(set(rd)), min(rd), max(rd))
            marks.append(Mark(wrap("%s released %s (%s)" % (
                key, _fmt_qty(total, run.unit_of(rel[0][1])), when), 60), "stockpile",
                STOCKPILE_COLOR, spans=spans if k == 0 else [], legend_spans=True))
    # Other policy actions: one line per distinct day, one entry per kind.
    for kind, (label, ls, color) in ACTION_STYLE.items():
        rows = [(day - s0, country) for day, k, _, country, _, _, _ in run.events_full
                if k == kind]
        if not rows:
            continue
        if kind in ("crisis_match", "supplier_switch"):
            text = "%s: %d, %s" % (label, len(rows), _day_list([d for d, _ in rows]))
        elif len(rows) <= 4:
            text = "%s: %s" % (label, ", ".join(
                ("%s d%d" % (c, d)) if c else "d%d" % d for d, c in rows))
        else:
            text = "%s: %s" % (label, _day_list([d for d, _ in rows]))
        marks.append(Mark(wrap(text, 60), kind, color, lines=sorted(set(d for d, _ in rows)),
                          ls=ls))
    return marks


def _fmt_qty(q, unit):
    return ("%.3g %s" % (q, unit)) if unit else "%.3g" % q


def draw_marks(ax, marks):
    """Draws the marks on one axes; returns [(handle, label)] for a legend."""
    from matplotlib.patches import Patch
    from matplotlib.lines import Line2D
    from matplotlib.colors import to_rgb
    out = []
    for m in marks:
        if m.legend_spans:
            for a, b in m.spans:
                ax.axvspan(a, b, color=m.color, alpha=0.12, lw=0, zorder=0)
                if m.hatch:  # the hatching darker than the fill, in the same colour
                    ax.axvspan(a, b, facecolor="none", edgecolor=m.color, alpha=0.3, lw=0,
                               hatch=m.hatch, zorder=0)
            out.append((Patch(facecolor=m.color, alpha=0.25, lw=0) if not m.hatch else
                        Patch(facecolor=(*to_rgb(m.color), 0.25), edgecolor=m.color, lw=0,
                              hatch=m.hatch), m.label))
        else:
            many = len(m.lines) > 8
            for d in m.lines:
                if many:  # a rug of ticks at the top rather than a block of lines
                    ax.plot([d], [1.0], marker="|", ms=9, color=m.color,
                            transform=ax.get_xaxis_transform(), clip_on=False)
                else:
                    ax.axvline(d, color=m.color, lw=1.0, ls=m.ls, zorder=1)
            out.append((Line2D([], [], color=m.color, lw=1.2, ls=m.ls,
                               marker="|" if many else None), m.label))
    return out


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
            self.events = []  # (day, type, description)
            # (day, type, description, country, material, quantity, firms)
            self.events_full = []
            if "events" in f and "day" in f["events"]:
                ev = f["events"]
                n = ev["day"].shape[0]
                if n:
                    days = ev["day"][()]
                    types = _strings(ev["type"])
                    desc = _strings(ev["description"])
                    country = _strings(ev["country"]) if "country" in ev else [""] * n
                    material = _strings(ev["material"]) if "material" in ev else [""] * n
                    qty = ev["quantity"][()] if "quantity" in ev else np.zeros(n)
                    firms = ev["firms"][()] if "firms" in ev else np.zeros(n)
                    self.events_full = [(int(days[k]), types[k], desc[k], country[k],
                                         material[k], float(qty[k]), int(firms[k]))
                                        for k in range(n)]
                    self.events = [e[:3] for e in self.events_full]
        info = _world_materials(self.scenario, path) if (names is None or tiers is None) else {}
        self.material_names = names or [info.get(m, {}).get("name") or m.replace("_", " ")
                                        for m in self.materials]
        self.material_tiers = tiers or [info.get(m, {}).get("tier", "") for m in self.materials]
        # The shock: the first scenario event (policy actions are responses to it).
        starts = [d for d, t, _ in self.events if not t.startswith("end:")
                  and t not in POLICY_TYPES] or [d for d, t, _ in self.events
                                                 if not t.startswith("end:")]
        self.shock_day = min(starts) if starts else int(self.days[0]) if len(self.days) else 0
        self.t = self.days - self.shock_day
        # Baseline output of each (country, material) and the world's output of each material,
        # from the firms' baseline output (exact, whatever happened on day 0).
        self.world_output = np.zeros(len(self.materials))
        if self.firm_material is not None:
            np.add.at(self.world_output, self.firm_material_index, self.firm_baseline)

        self.marks = event_marks(self)

    # ---- labels ----
    def unit_of(self, material_id):
        return self.units[self.materials.index(material_id)] if material_id in self.materials \
            else ""

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


PALETTE = list(plt.get_cmap("tab10").colors) + list(plt.get_cmap("Dark2").colors)


class Colors:
    """One colour per country (or material) in every panel of a figure, so that one legend
    serves them all."""

    def __init__(self):
        self.index = {}

    def __call__(self, key):
        if key not in self.index:
            self.index[key] = len(self.index)
        return PALETTE[self.index[key] % len(PALETTE)]


def _grid(n, max_cols=3, w=5.0, h=3.3):
    cols = min(max_cols, max(1, n))
    rows = int(np.ceil(n / cols)) if n else 1
    fig, axes = plt.subplots(rows, cols, figsize=(max(9.0, w * cols), h * rows + 1.0),
                             squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _title(fig, question, note):
    """The question the figure answers, in bold, and what is drawn, in its units."""
    width = int(fig.get_figwidth() * 11)
    fig.suptitle(wrap(question, width) + "\n" + wrap(note, int(width * 1.15)),
                 fontsize=11.5, linespacing=1.4)


def _legends(fig, entries):
    """Legends under the panels, outside every axes: [(title, [(handle, label)])]. The figure
    is saved with bbox_inches='tight' (save()), which takes them in."""
    renderer = fig.canvas.get_renderer()
    y = 0.0
    for title, handles in entries:
        if not handles:
            continue
        width = max(len(lab.split("\n")[0]) for _, lab in handles)
        per_col = max(1.6, 0.085 * width + 0.6)  # inches per column at fontsize 9
        ncol = int(max(1, min(len(handles), fig.get_figwidth() // per_col)))
        leg = fig.legend([h for h, _ in handles], [lab for _, lab in handles],
                         loc="upper center", bbox_to_anchor=(0.5, y), ncol=ncol, fontsize=9,
                         title=title, title_fontsize=9.5, frameon=False)
        y = leg.get_window_extent(renderer).y0 / fig.bbox.height - 0.005


def save(fig, target, fmt="png", dpi=120):
    """Writes the figure with everything in it (legends under the panels, wrapped titles)."""
    fig.savefig(target, format=fmt, dpi=dpi, bbox_inches="tight", pad_inches=0.15)


def _empty(title, text):
    fig, ax = plt.subplots(figsize=(8, 2.5))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12)
    fig.suptitle(title, fontsize=11.5)
    return fig


def _time_axes(ax, run, marks, ylabel):
    ax.set_xlabel(run.xlabel)
    ax.set_ylabel(wrap(ylabel, 44))
    ax.set_ylim(bottom=0)
    ax.set_xlim(run.t[0] if len(run.t) else 0, run.t[-1] if len(run.t) else 1)
    ax.grid(alpha=0.3)
    return draw_marks(ax, marks)


def _line_panels(run, panels, lines_in, series, title, ylabel, legend, question, note):
    """One panel per key of `panels` (titled title(a), y axis ylabel(a)), in panel a one line
    per key b of lines_in(a): series(a, b) by day. A line's key has the same colour in every
    panel, so that one legend, (its title, name(b)), serves them all."""
    fig, axes = _grid(len(panels))
    color, lines, events = Colors(), {}, []
    for ax, a in zip(axes, panels):
        for b in lines_in(a):
            h, = ax.plot(run.t, series(a, b), lw=1.6, color=color(b))
            lines.setdefault(b, h)
        ax.set_title(wrap(title(a), 44), fontsize=10)
        events = _time_axes(ax, run, run.marks, ylabel(a))
    _title(fig, question, note)
    fig.tight_layout()
    legend_title, name = legend
    _legends(fig, [(legend_title, [(h, name(b)) for b, h in lines.items()]),
                   ("events and policy actions", events)])
    return fig


def _series_by_material(run, series, metric, question, what, note, max_panels=12,
                        max_lines=8):
    """One panel per material, one line per country: a daily series in units of the material,
    pairs ordered by the summary metric `metric` (days of its baseline)."""
    days = run.summary[metric]  # (country, material)
    mats = [p for p in np.argsort(-days.max(axis=0), kind="stable")
            if days[:, p].max() > NOISE_SHARE][:max_panels]
    if not mats:
        return _empty(question, "No %s in any country." % what)
    return _line_panels(
        run, mats,
        lambda p: [c for c in np.argsort(-days[:, p], kind="stable")
                   if days[c, p] > NOISE_SHARE][:max_lines],
        lambda p, c: series[:, c, p], lambda p: run.material_names[p],
        lambda p: "%s (%s per day)" % (what, run.units[p]),
        ("country", lambda c: short_name(run.country_names[c], 36)), question, note)


def fig_output_lost_by_material(run, max_panels=12, max_lines=8):
    return _series_by_material(
        run, run.output_lost, "output_lost_days",
        "Which countries' makers lost output, of which material, and when?", "output lost",
        "Output lost: baseline output minus production of each country's makers, per day, in "
        "the material's unit; one panel per material.", max_panels, max_lines)


def fig_shortage_by_material(run, max_panels=12, max_lines=8):
    return _series_by_material(
        run, run.shortage, "shortage_days",
        "Where did firms run short of an input, and when?", "input shortage",
        "Input shortage: what each country's users lacked of the material to make what they "
        "could sell, per day, in the material's unit; one panel per material.",
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
    question = "How short of each input was each country?"
    if not countries:
        return _empty(question, "No input shortage in any country.")
    return _line_panels(
        run, countries,
        lambda c: [p for p in np.argsort(-days[c], kind="stable")
                   if days[c, p] > NOISE_SHARE][:max_lines],
        lambda c, p: pct[:, c, p], lambda c: run.country_names[c],
        lambda c: "input shortage (% of baseline daily use)",
        ("material", lambda p: short_name(run.material_names[p], 44)), question,
        "Input shortage of each material as a share of the country's baseline daily use of "
        "it; one panel per country.")


def fig_loss_heatmap(run, max_rows=30, max_cols=40):
    """Output lost (days of baseline output) and input shortage (days of baseline use) per
    country and material, from the summary group."""
    question = "Where were the losses largest over the whole run?"
    keys = run.affected()
    if not keys:
        return _empty(question, "No output lost, no input shortage and no unmet final demand.")
    rows = list(dict.fromkeys(c for c, _ in keys))[:max_rows]
    cols = list(dict.fromkeys(p for _, p in keys))[:max_cols]
    panels = [("output_lost_days", run.baseline_output,
               "output lost\n(days of baseline output)"),
              ("shortage_days", run.baseline_use, "input shortage\n(days of baseline use)")]
    w = max(3.2, 1.0 + 1.1 * len(cols))
    fig, axes = plt.subplots(1, 2, figsize=(2 * w + 3.0, max(3.4, 2.2 + 0.42 * len(rows))),
                             squeeze=False)
    for ax, (metric, base, label) in zip(axes.flat, panels):
        data = run.summary[metric][np.ix_(rows, cols)]
        defined = base[np.ix_(rows, cols)] > 0
        shown = np.where(defined, data, np.nan)
        vmax = np.nanmax(shown) if np.isfinite(shown).any() else 0
        im = ax.imshow(shown, cmap="Reds", aspect="auto", vmin=0, vmax=max(vmax, 1e-12))
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels([wrap(run.material_names[p], 16) for p in cols], fontsize=8.5)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([short_name(run.country_names[c], 26) for c in rows], fontsize=9)
        for i in range(len(rows)):
            for j in range(len(cols)):
                if not defined[i, j]:
                    ax.text(j, i, "-", ha="center", va="center", fontsize=9, color="0.5")
                elif data[i, j] > NOISE_SHARE:
                    ax.text(j, i, "%.3g" % data[i, j], ha="center", va="center", fontsize=9,
                            color="white" if data[i, j] > 0.6 * vmax else "black")
        cb = fig.colorbar(im, ax=ax, fraction=0.08, pad=0.03)
        cb.set_label("days", fontsize=9)
        ax.set_title(label, fontsize=10)
    _title(fig, question, "From the run summary: output lost in days of the country's baseline "
           "output, input shortage in days of its firms' baseline use ('-': the country has no "
           "makers, or no users, of the material).")
    fig.tight_layout()
    return fig


def fig_propagation_front(run, max_lines=10):
    question = "How far and how fast did the shock travel?"
    if run.firm_material is None or not len(run.days):
        return _empty(question, "The output has no firm-level data.")
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
    # Materials none of whose firms was ever short are left out (they would lie on zero).
    mat_groups = [(short_name(run.material_names[p], 40), run.firm_material_index == p)
                  for p in mats if (reached & (run.firm_material_index == p)).any()][:max_lines]
    fig, axes = plt.subplots(1, 2 if by_tier else 1, figsize=(13 if by_tier else 7.5, 4.6),
                             squeeze=False)
    panels = ([("By tier of the firm's product", groups)] if by_tier else []) + [
        ("By the firm's product (those with a firm ever short)", mat_groups)]
    events = []
    for ax, (name, gs) in zip(axes.flat, panels):
        for label, mask in gs:
            n = mask.sum()
            if n == 0:
                continue
            share = [(reached & mask & (first <= d)).sum() / n for d in run.days]
            ax.step(t, 100.0 * np.array(share), where="post", lw=1.7,
                    label="%s (%d firms)" % (label, n))
        ax.set_title(name, fontsize=10)
        # "Short" as the figure's second title line defines it; a label as tall as the axes
        # ran into the title above and the legend below.
        events = _time_axes(ax, run, run.marks, "firms short of an input (%)")
        ax.set_ylim(0, 105)
        ax.legend(fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.19),
                  ncol=2 if len(gs) > 4 else 1, frameon=False)
    _title(fig, question, "Share of firms that have received less than they ordered of any "
           "input by each day (the propagation front); firms without inputs are never short.")
    fig.tight_layout()
    # Under the per-panel legends: the events.
    renderer = fig.canvas.get_renderer()
    y0 = min(ax.get_legend().get_window_extent(renderer).y0 for ax in axes.flat
             if ax.get_legend() is not None) / fig.bbox.height - 0.01
    if events:
        per_col = max(1.6, 0.085 * max(len(lab.split("\n")[0]) for _, lab in events) + 0.6)
        fig.legend([h for h, _ in events], [lab for _, lab in events], loc="upper center",
                   bbox_to_anchor=(0.5, y0), fontsize=9, frameon=False,
                   ncol=int(max(1, min(len(events), fig.get_figwidth() // per_col))),
                   title="events and policy actions", title_fontsize=9.5)
    return fig


def fig_inventory_cover(run, max_panels=12, max_lines=8):
    question = "How long did the users' stocks of each material last?"
    if run.inventory is None:
        return _empty(question, "The output has no inventory data.")
    inv = run.inventory
    finite = np.isfinite(inv)
    hi = np.where(finite, inv, -np.inf).max(axis=0)
    lo = np.where(finite, inv, np.inf).min(axis=0)
    with np.errstate(invalid="ignore"):
        drop = hi - lo  # (country, material); NaN/inf where nobody uses the material
    drop = np.where(np.isfinite(drop), drop, 0.0)
    mats = [p for p in np.argsort(-drop.max(axis=0)) if drop[:, p].max() > 1e-9][:max_panels]
    if not mats:
        return _empty(question, "Inventories stayed at their baseline level.")
    return _line_panels(
        run, mats, lambda p: [c for c in np.argsort(-drop[:, p]) if drop[c, p] > 1e-9][:max_lines],
        lambda p, c: inv[:, c, p], lambda p: run.material_names[p],
        lambda p: "days of cover (stock / daily use)",
        ("country", lambda c: short_name(run.country_names[c], 36)), question,
        "Inventory cover held by each country's users of the material: the days of normal use "
        "their stock would last. Shortages start near zero.")


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
        save(fig, path, args.format, args.dpi)
        plt.close(fig)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
