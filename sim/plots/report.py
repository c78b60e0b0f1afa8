#!/usr/bin/python3
"""One self-contained HTML page about a shortfall run or sweep: opens in any browser, no server.

    /usr/bin/python3 sim/plots/report.py outputs/run.h5 -o report.html [--analysis analysis.h5]
                                     [--figures png|svg] [--title TEXT]
    (or: shortfall report outputs/run.h5 -o report.html)

A run's page puts the answer first: a sentence naming the worst losses, the run summary's table
(the run metrics of docs/model.md section 10, read from the file's `summary` group: the rows and
order that `shortfall run` prints, each header naming its column's unit) and the output-lost
figure; then what happened (each event once, repeated policy actions such as daily stockpile
releases one row each), the other figures of sim/plots/plot_run.py embedded as base64 PNG (or inline
SVG), with --analysis the main tables of `shortfall analyze --out`, and the scenario.
A sweep file (`shortfall sweep`) gets a sweep report: quantiles and box plots of the headline
metrics over the runs per (country, material), and Spearman's rank correlation of each swept
axis with each. Any other file: exit 2. Nothing is loaded from elsewhere.
"""
import argparse
import base64
import datetime
import html
import io
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_run  # noqa: E402
from plot_run import plt  # noqa: E402  (Agg backend already selected)
import h5py  # noqa: E402

CAPTIONS = {
    "output_lost_by_material": "Output lost (the headline): each country's makers' baseline "
    "output of the material minus what they made, per day, in the material's own unit.",
    "shortage_by_material": "Input shortage of each material in each country, per day in the "
    "material's own unit: what the country's firms lacked of it to make what they could sell.",
    "shortage_by_country": "The same input shortage by country, each material as a share of "
    "the country's baseline daily use, so that materials can be compared without adding "
    "different units.",
    "loss_heatmap": "Over the run, from the run summary: output lost in days of baseline "
    "output (10 means the country's makers lost ten normal days of output) and input shortage "
    "in days of baseline use.",
    "propagation_front": "How far the shock travelled: the share of firms that had received "
    "less than they ordered of any input by each day.",
    "inventory_cover": "Stocks held by users of each material, in days of normal use they "
    "would last. Shortages start when this reaches zero.",
}

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:0;
 color:#1d2330;background:#fff}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:1.7em;margin:0 0 4px} h2{margin-top:2em;border-bottom:2px solid #e3e6ee;
 padding-bottom:4px} .meta{color:#5b6478;font-size:.9em}
table{border-collapse:collapse;margin:10px 0;font-size:.92em}
th,td{border:1px solid #d9dde7;padding:4px 9px;text-align:left;vertical-align:top}
th{background:#f2f4f8} td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:18px 0 30px} figure img,figure svg{max-width:100%;height:auto;
 border:1px solid #e3e6ee} figcaption{color:#4a5266;font-size:.92em;margin-top:6px}
pre{background:#f6f7fa;border:1px solid #e3e6ee;padding:10px;overflow:auto;font-size:.85em}
.note{color:#5b6478;font-size:.9em} .lead{font-size:1.15em;margin:14px 0 4px}
"""


def esc(x):
    return html.escape(str(x))


def fmt(x, digits=3):
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    return "%.*g" % (digits, x)


def pct(x):
    return "-" if x is None or not np.isfinite(x) else "%.1f%%" % (100.0 * x)


def table(headers, rows, numeric=()):
    out = ["<table><thead><tr>"]
    out += ["<th>%s</th>" % esc(h) for h in headers]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>")
        for k, v in enumerate(r):
            cls = ' class="num"' if k in numeric else ""
            out.append("<td%s>%s</td>" % (cls, esc(v)))
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


# Every header names what its column holds and the unit (docs/model.md section 10).
SUMMARY_HEADERS = ["country", "material", "output lost (days of baseline output)",
                   "peak output loss (% of baseline output)",
                   "input shortage (days of baseline use)",
                   "unmet final demand (days of baseline final use)",
                   "first day of input shortage", "recovered from day"]


def day_cell(x, none):
    """A day of the run, or the words for the summary's -1 ('never short', 'not recovered')."""
    return none if x < 0 else str(int(x))


def summary_rows(run, top):
    """The rows of `shortfall run`'s summary table, in its order (worst first by output lost,
    then input shortage, then unmet final demand), from the file's `summary` group; '-' where
    the country has no makers, users or final users of the material. The days are days of the
    run; -1 in the file is written out ('none', 'not recovered')."""
    m = run.summary
    rows = []
    for c, p in run.affected()[:top]:
        def num(x, base):
            return "%.2f" % x if base > 0 else "-"
        rows.append([run.countries[c], run.materials[p],
                     num(m["output_lost_days"][c, p], run.baseline_output[c, p]),
                     num(100.0 * m["peak_output_loss"][c, p], run.baseline_output[c, p]),
                     num(m["shortage_days"][c, p], run.baseline_use[c, p]),
                     num(m["unmet_final_demand_days"][c, p], run.baseline_final_use[c, p]),
                     day_cell(m["first_shortage_day"][c, p], "none"),
                     day_cell(m["recovery_day"][c, p], "not recovered")])
    return SUMMARY_HEADERS, rows


def sentence_name(name, lower=True):
    """A name as it reads inside a sentence: without its parenthesised details and what follows
    a comma, and (lower: a material's name) the first letter lowered where the first word is an
    ordinary capitalised word ('High-purity hydrogen fluoride (etching/cleaning, liquid and
    gas)' -> 'high-purity hydrogen fluoride'; 'Li-ion battery cells' and 'GaN power device'
    kept; 'Rest of EU-27 (BEL, FIN, ...)' -> 'Rest of EU-27')."""
    depth, kept = 0, []
    for ch in name:  # drop "(...)", nested or not
        depth += ch == "("
        if depth == 0:
            kept.append(ch)
        depth -= ch == ")" and depth > 0
    short = " ".join("".join(kept).split(",")[0].split()) or name
    head = re.split(r"[-/ ]", short)[0]
    if lower and len(head) >= 3 and head[0].isupper() and head[1:].islower():
        short = short[0].lower() + short[1:]
    return short


def possessive(name):
    """'Japan' -> "Japan's", 'United States' -> "United States'"."""
    return name + ("'" if name.endswith("s") else "'s")


def headline(run):
    """One sentence with the answer: the worst output loss, input shortage and unmet final
    demand, each for one (country, material) in days of its own baseline."""
    m = run.summary
    parts = []
    for metric, what, base in (("output_lost_days", "makers lost %s days of output",
                                run.baseline_output),
                               ("shortage_days", "users lacked %s days of use",
                                run.baseline_use),
                               ("unmet_final_demand_days", "final users missed %s days of use",
                                run.baseline_final_use)):
        v = np.where(base > 0, m[metric], 0.0)
        if not v.size or not v.max() > plot_run.NOISE_SHARE:
            continue
        c, p = np.unravel_index(int(np.argmax(v)), v.shape)
        parts.append("%s %s %s" % (possessive(sentence_name(run.country_names[c], lower=False)),
                                   sentence_name(run.material_names[p]),
                                   what % ("%.3g" % v[c, p])))
    if not parts:
        return "No losses: no output lost, no input shortage and no unmet final demand."
    return "Worst hit: " + "; ".join(parts) + "."


# ---- what happened: each event once, repeated policy actions in one row ----
REPEATED_BY_COUNTRY = ("crisis_match", "supplier_switch")


def _event_key(kind, desc, country, material):
    if kind == "stockpile_release":
        return (kind, desc.split(": ")[0])
    if kind in REPEATED_BY_COUNTRY:
        return (kind, country, material)
    return (kind, desc)


def _span(days):
    days = sorted(set(days))
    return str(days[0]) if len(days) == 1 else "%d–%d" % (days[0], days[-1])


def event_rows(run):
    """[(days, what)]: the run's events in day order, the repeated ones (a stockpile released on
    57 days, 40 buyers matched with new suppliers, the same event logged daily) one row each,
    e.g. 'JPN gallium stockpile: released on 57 days, d80–d136, 1,234 t to 19–21 buyers'."""
    groups = {}
    for n, e in enumerate(run.events_full):
        groups.setdefault(_event_key(*e[1:5]), []).append(e + (n,))
    # The same text on one or two days is two actions (a measure taking effect for each of
    # two requests), not a daily log: one row each.
    for key in [k for k, evs in groups.items() if k[0] not in ("stockpile_release",) +
                REPEATED_BY_COUNTRY and 1 < len(evs) < 3]:
        for n, e in enumerate(groups.pop(key)):
            groups[key + (n,)] = [e]
    rows = []
    for key, evs in groups.items():
        days = [e[0] for e in evs]
        kind, desc, country, material = evs[0][1], evs[0][2], evs[0][3], evs[0][4]
        unit = run.unit_of(material)
        if len(evs) == 1 and kind != "stockpile_release":
            text = ("ends: " if kind.startswith("end:") else "") + desc
        elif kind == "stockpile_release":
            total = sum(e[5] for e in evs)
            firms = [e[6] for e in evs]
            buyers = ("%d" % firms[0]) if min(firms) == max(firms) else "%d–%d" % (
                min(firms), max(firms))
            text = "%s: released on %d day%s, d%s, %s to %s buyers%s" % (
                desc.split(": ")[0], len(set(days)), "s" if len(set(days)) != 1 else "",
                _span(days).replace("–", "–d"), "{:,.4g} {}".format(total, unit).strip(),
                buyers, " a day" if len(set(days)) > 1 else "")
        elif kind in REPEATED_BY_COUNTRY:
            what = "crisis match" if kind == "crisis_match" else "supplier switch"
            text = "%s: %d buyers in %s took on a new supplier of %s, d%s" % (
                what, len(evs), country, material, _span(days).replace("–", "–d"))
        else:
            text = "%s (on %d days, d%s)" % (("ends: " if kind.startswith("end:") else "") +
                                             desc, len(set(days)),
                                             _span(days).replace("–", "–d"))
        rows.append(((min(days), evs[0][-1]), _span(days), text))
    rows.sort(key=lambda r: r[0])  # by first day, then as logged
    return [(span, text) for _, span, text in rows]


def value_rows(run, top):
    """Output lost and unmet final demand in value per country (materials with a unit_value),
    as `shortfall run` prints them; [] when no material has one."""
    if run.values is None:
        return []
    lost, unmet = run.values["output_lost_value"], run.values["unmet_final_demand_value"]
    cs = [c for c in range(len(lost)) if lost[c] > 0 or unmet[c] > 0]
    cs.sort(key=lambda c: (-lost[c], c))
    return [[run.countries[c], "%.4g" % lost[c], "%.4g" % unmet[c]] for c in cs[:top]]


def figure_html(name, fig, kind, caption=None):
    buf = io.BytesIO()
    if kind == "svg":
        plot_run.save(fig, buf, "svg")
        svg = buf.getvalue().decode("utf-8")
        svg = svg[svg.find("<svg"):]  # drop the XML prologue and doctype
        body = svg
    else:
        plot_run.save(fig, buf, "png", dpi=110)
        b64 = base64.b64encode(buf.getvalue()).decode("ascii")
        body = '<img alt="%s" src="data:image/png;base64,%s">' % (esc(name.replace("_", " ")), b64)
    plt.close(fig)
    return '<figure id="fig-%s">%s<figcaption>%s</figcaption></figure>' % (
        esc(name), body, esc(caption if caption is not None else CAPTIONS.get(name, "")))


def analysis_html(path, top):
    """Tables from `shortfall analyze --out`; an explanatory line if the file is unreadable."""
    def s(ds):
        return plot_run._strings(ds)
    parts = ["<h2>Where the network is fragile (shortfall analyze)</h2>"]
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        return parts[0] + "<p class=note>Could not read %s: %s</p>" % (esc(path), esc(e))
    with f:
        if "chokepoints" in f and "candidate" in f["chokepoints"]:
            g = f["chokepoints"]
            ep = s(g["end_product"])
            lost = g["knock_on_share"][()] if "knock_on_share" in g else g["lost_share"][()]
            rows = []
            labels, kinds = s(g["label"]), s(g["kind"])
            for q in range(min(top, len(labels))):
                e = int(np.nanargmax(lost[q])) if np.isfinite(lost[q]).any() else 0
                rows.append([kinds[q].replace("_", " "), labels[q], pct(np.nanmax(lost[q])) if
                             np.isfinite(lost[q]).any() else "-", ep[e] if ep else "-",
                             pct(g["worst_lost_share"][q])])
            days = plot_run._attr(g, "knockout_days", "")
            parts.append("<h3>Chokepoints: final deliveries lost when one is removed (%s days)</h3>"
                         % esc(days))
            parts.append(table(["kind", "removed", "lost by others (worst product)",
                                "worst-hit product", "lost incl. itself"], rows, numeric=(2, 4)))
        if "esri" in f:
            g = f["esri"]
            firms, esri = s(g["firm"]), g["esri"][()]
            order = np.argsort(-esri)[:top]
            rows = [[firms[i], pct(esri[i]), pct(g["esri_max"][i]), pct(g["esri_downstream"][i]),
                     pct(g["esri_upstream"][i])] for i in order]
            parts.append("<h3>Economic systemic risk index (share of output lost if the firm "
                         "stops, mean over materials)</h3>")
            parts.append(table(["firm", "ESRI", "worst material", "downstream only",
                                "upstream only"], rows, numeric=(1, 2, 3, 4)))
        if "dependency" in f:
            g = f["dependency"]
            ep, mat = s(g["end_product"]), s(g["material"])
            names = s(g["country_name"])
            hhi, share = g["world_hhi"][()], g["world_share"][()]
            idx = [(hhi[e, p], e, p) for e in range(len(ep)) for p in range(len(mat))
                   if np.isfinite(hhi[e, p])]
            idx.sort(key=lambda x: -x[0])
            rows = []
            for h, e, p in idx[:top]:
                c = int(np.nanargmax(share[e, p]))
                rows.append([ep[e], mat[p], fmt(h), "%s %s" % (names[c], pct(share[e, p, c]))])
            parts.append("<h3>Most concentrated upstream dependencies (world)</h3>")
            parts.append(table(["end product", "upstream material", "HHI", "largest origin"],
                               rows, numeric=(2,)))
    return "".join(parts)


def _page_head(title):
    return ["<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
            "<meta name=viewport content='width=device-width,initial-scale=1'>",
            "<title>%s</title><style>%s</style></head><body><main>" % (esc(title), CSS),
            "<h1>%s</h1>" % esc(title)]


def build(run_path, analysis=None, kind="png", title=None, top=15):
    run = plot_run.Run(run_path)
    title = title or "Supply shortfall report: %s" % run.scenario_name
    out = _page_head(title)
    out.append("<p class=meta>Scenario <b>%s</b>; %d days recorded; seed %s; shortfall %s; "
               "world %s; report written %s.</p>" % (
                   esc(run.scenario_name), len(run.days), esc(run.seed),
                   esc(run.program_version), esc((run.world_sha256 or "")[:12]),
                   datetime.datetime.now().strftime("%Y-%m-%d %H:%M")))
    # The answer first: the headline sentence, the run summary's table, the main picture.
    out.append("<p class=lead>%s</p>" % esc(headline(run)))
    out.append("<h2>Losses by country and material</h2>")
    headers, rows = summary_rows(run, top)
    if rows:
        out.append(table(headers, rows, numeric=(2, 3, 4, 5, 6, 7)))
        out.append("<p class=note>The run summary over %d days (worst first by output lost; "
                   "docs/model.md section 10), each (country, material) in days of its own "
                   "baseline: output lost in days of the country's baseline output of the "
                   "material, input shortage in days of its firms' baseline use, unmet final "
                   "demand in days of its final users' use. Peak: the largest daily output "
                   "lost. Days are days of the run. Recovered: first day from which output "
                   "&ge; 99%% of baseline and shortage &le; 1%% of use hold to the end.</p>"
                   % run.summary_days)
        vrows = value_rows(run, top)
        if vrows:
            out.append("<h3>In value, per country (materials with a unit_value only)</h3>")
            out.append(table(["country", "output lost (value)", "unmet final demand (value)"],
                             vrows, numeric=(1, 2)))
    else:
        out.append("<p>No losses: no output lost, no input shortage and no unmet final demand "
                   "in %d days.</p>" % run.summary_days)
    figures = plot_run.make_figures(run)
    out.append(figure_html(*figures[0], kind))
    out.append("<h2>What happened</h2>")
    if run.events:
        since = run.shock_day != 0
        erows = event_rows(run)
        if since:
            out.append("<p class=note>The shock starts on day %d of the run; the figures count "
                       "days since the shock.</p>" % run.shock_day)
        out.append(table(["day" + (" of the run" if since else ""), "event or policy action"],
                         erows, numeric=(0,)))
    else:
        out.append("<p>No events: the baseline run.</p>")
    out.append("<h2>More figures</h2>")
    for name, fig in figures[1:]:
        out.append(figure_html(name, fig, kind))
    if analysis:
        out.append(analysis_html(analysis, top))
    out.append("<h2>Scenario</h2><pre>%s</pre>" % esc(run.scenario or "(not recorded)"))
    out.append("<p class=note>Source: %s. Units: each material in its own unit; quantities of "
               "different materials are never added together.</p>" % esc(
                   os.path.basename(run_path)))
    out.append("</main></body></html>\n")
    return "".join(out)


# ---- a sweep file: the distribution of the headline metrics and the axes that move them ----
SWEEP_METRICS = (("output_lost_days", "output lost (days of baseline output)"),
                 ("shortage_days", "input shortage (days of baseline use)"),
                 ("unmet_final_demand_days", "unmet final demand (days of baseline final use)"))


def _rank(x):
    """Ranks 0..n-1, ties sharing their mean rank."""
    _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    end = np.cumsum(counts)
    return ((end - counts + end - 1) / 2.0)[inv]


def spearman(x, y):
    """Spearman's rank correlation of two series (NaN where either is constant or fewer than
    three runs have both)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return np.nan
    rx, ry = _rank(x[ok]), _rank(y[ok])
    if rx.std() == 0 or ry.std() == 0:
        return np.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def _axis_numbers(sw, a):
    v = sw.coords[a]
    if v.dtype == object:  # categories: their order of appearance
        cats = list(dict.fromkeys(v.tolist()))
        return np.array([cats.index(x) for x in v], float)
    return v.astype(float)


def sweep_pairs(sw, top):
    """(country, material) pairs hit in some run, worst first by the median over runs of output
    lost, then input shortage, then unmet final demand (never summed across materials)."""
    med = {k: np.nanmedian(sw.metrics[k], axis=0) for k, _ in SWEEP_METRICS
           if k in sw.metrics}
    mx = {k: np.nanmax(sw.metrics[k], axis=0) for k in med}
    C, M = next(iter(med.values())).shape
    pairs = [(c, p) for c in range(C) for p in range(M)
             if any(mx[k][c, p] > plot_run.NOISE_SHARE for k in mx)]
    pairs.sort(key=lambda cp: tuple(-np.nan_to_num(med[k][cp]) for k in med) +
               tuple(-np.nan_to_num(mx[k][cp]) for k in mx))
    return pairs[:top]


def sweep_tables(sw, pairs):
    """(distribution rows, correlation rows, strongest axis per metric)."""
    dist, corr = [], []
    strongest = {}
    for c, p in pairs:
        for k, label in SWEEP_METRICS:
            if k not in sw.metrics:
                continue
            v = sw.metrics[k][:, c, p]
            if not np.nanmax(v) > plot_run.NOISE_SHARE:
                continue
            q = np.nanpercentile(v, [0, 5, 50, 95, 100])
            name = sw.country_names[c] if c < len(sw.country_names) else sw.countries[c]
            dist.append([name, sw.material_names[p], label] + ["%.3g" % x for x in q])
            rhos = [spearman(_axis_numbers(sw, a), v) for a in sw.axes]
            corr.append([name, sw.material_names[p], label] + [
                "-" if not np.isfinite(r) else "%+.2f" % r for r in rhos])
            for a, r in zip(sw.axes, rhos):
                if np.isfinite(r) and abs(r) > abs(strongest.get(k, (None, 0.0))[1]):
                    strongest[k] = (a, r)
    return dist, corr, strongest


def sweep_boxplot(sw, pairs):
    """One panel per headline metric, one box per (country, material): the spread over runs."""
    ms = [(k, label) for k, label in SWEEP_METRICS if k in sw.metrics]
    fig, axes = plt.subplots(1, len(ms), figsize=(3.4 * len(ms) + 1.8,
                                                  1.6 + 0.42 * max(1, len(pairs))),
                             squeeze=False)
    labels = ["%s, %s" % (plot_run.short_name(sw.country_names[c], 22),
                          plot_run.short_name(sw.material_names[p], 30)) for c, p in pairs]
    for ax, (k, label) in zip(axes.flat, ms):
        data = [sw.metrics[k][:, c, p][np.isfinite(sw.metrics[k][:, c, p])] for c, p in pairs]
        ax.boxplot(data, vert=False, labels=labels, widths=0.6, whis=(5, 95),
                   flierprops=dict(markersize=3))
        ax.invert_yaxis()
        ax.set_xlabel(plot_run.wrap(label, 40))
        ax.grid(alpha=0.3, axis="x")
        if ax is not axes.flat[0]:
            ax.set_yticklabels([])
    plot_run._title(fig, "How bad is it across the %d runs, and where?" % sw.n,
                    "Each (country, material) in days of its own baseline; box: quartiles, "
                    "whiskers: 5th-95th percentile, line: median.")
    fig.tight_layout()
    return fig


def build_sweep(path, kind="png", title=None, top=15):
    import plot_sweep
    sw = plot_sweep.Sweep(path)
    with h5py.File(path, "r") as f:
        name = plot_run._attr(f, "sweep_name", "") or os.path.basename(path)
        sweep_text = plot_run._attr(f, "sweep", "") or ""
        replicates = plot_run._attr(f, "replicates", None)
        version = plot_run._attr(f, "program_version", "")
    missing = [k for k, _ in SWEEP_METRICS if k not in sw.metrics or sw.metrics[k].ndim != 3]
    if missing:
        raise KeyError("the sweep's summary group lacks %s (written by an older shortfall? "
                       "run the sweep again)" % ", ".join(missing))
    title = title or "Sweep report: %s" % name
    out = _page_head(title)
    axes_text = "; ".join("%s: %s" % (a, ", ".join(
        str(v) for v in list(dict.fromkeys(sw.coords[a].tolist()))[:12])) for a in sw.axes)
    out.append("<p class=meta>Sweep <b>%s</b>; %d runs%s; axes: %s; shortfall %s; report "
               "written %s.</p>" % (esc(name), sw.n, "" if replicates is None else
                                    " (%s replicates per point)" % esc(replicates),
                                    esc(axes_text or "none"), esc(version),
                                    datetime.datetime.now().strftime("%Y-%m-%d %H:%M")))
    pairs = sweep_pairs(sw, top)
    if not pairs:
        out.append("<p class=lead>No run lost output, ran short of an input or left final "
                   "demand unmet.</p>")
    else:
        dist, corr, strongest = sweep_tables(sw, pairs)
        lead = []
        for k, label in SWEEP_METRICS:
            if k in strongest:
                a, r = strongest[k]
                lead.append("%s moves most with <b>%s</b> (rank correlation %+.2f)" % (
                    esc(label.split(" (")[0]), esc(a), r))
        out.append("<p class=lead>Over %d runs: %s.</p>" % (sw.n, "; ".join(lead) if lead else
                                                           "no swept axis moves the outcome"))
        out.append("<h2>The headline metrics over the runs</h2>")
        out.append(table(["country", "material", "metric", "min", "5%", "median", "95%",
                          "max"], dist, numeric=(3, 4, 5, 6, 7)))
        out.append("<p class=note>The run metrics of docs/model.md section 10, read from the "
                   "sweep file's summary group, each (country, material) in days of its own "
                   "baseline; columns are quantiles over the %d runs.</p>" % sw.n)
        out.append(figure_html("sweep_distribution", sweep_boxplot(sw, pairs), kind))
        out.append("<h2>Which axes move them</h2>")
        out.append(table(["country", "material", "metric"] + [
            "rank correlation with %s" % a for a in sw.axes], corr,
            numeric=tuple(range(3, 3 + len(sw.axes)))))
        out.append("<p class=note>Spearman's rank correlation over the runs between each swept "
                   "axis and each metric: +1 the metric always rises with the axis, -1 always "
                   "falls, 0 no monotone relation; '-' where the metric does not vary.</p>")
        for a in sw.axes[:4]:
            fig = plot_sweep.make_figure(sw, a, "output_lost_days", panels=min(6, len(pairs)))
            out.append(figure_html("sweep_by_%s" % a, fig, kind, caption=(
                "Output lost against %s: the line is the median over replicates, the band "
                "their range, the dots each run." % a)))
    out.append("<h2>Sweep</h2><pre>%s</pre>" % esc(sweep_text or "(not recorded)"))
    out.append("<p class=note>Source: %s.</p>" % esc(os.path.basename(path)))
    out.append("</main></body></html>\n")
    return "".join(out)


def file_kind(path):
    """'run', 'sweep', or raises KeyError saying what the file is not."""
    with h5py.File(path, "r") as f:
        if "summary" in f and "run" in f["summary"]:
            return "sweep"
        if "summary" in f and "country_material" in f:
            return "run"
        if "country_material" in f:
            raise KeyError("no 'summary' group: written before model version 2; run it again")
    raise KeyError("neither a `shortfall run` nor a `shortfall sweep` output")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Self-contained HTML report of a shortfall run "
                                 "or sweep.")
    ap.add_argument("output", help="HDF5 file written by `shortfall run` or `shortfall sweep`")
    ap.add_argument("-o", "--out", required=True, help="HTML file to write")
    ap.add_argument("--analysis", help="HDF5 file written by `shortfall analyze --out`")
    ap.add_argument("--figures", choices=("png", "svg"), default="png",
                    help="embed figures as base64 PNG (default) or inline SVG")
    ap.add_argument("--title")
    ap.add_argument("--top", type=int, default=15, help="rows per table")
    args = ap.parse_args(argv)
    try:
        if file_kind(args.output) == "sweep":
            if args.analysis:
                print("note: --analysis is shown in a run's report only", file=sys.stderr)
            page = build_sweep(args.output, args.figures, args.title, args.top)
        else:
            page = build(args.output, args.analysis, args.figures, args.title, args.top)
    except (OSError, KeyError) as e:
        print("error: %s: not a shortfall run or sweep output (%s)" % (
            args.output, e.args[0] if e.args else e), file=sys.stderr)
        return 2
    d = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(d, exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
