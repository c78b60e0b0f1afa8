#!/usr/bin/python3
"""One self-contained HTML page about a shortfall run: opens in any browser, no server.

    /usr/bin/python3 tools/report.py outputs/run.h5 -o report.html [--analysis analysis.h5]
                                     [--figures png|svg] [--title TEXT]
    (or: shortfall report outputs/run.h5 -o report.html)

The page holds the scenario (its events and YAML text), the run summary's table (the run
metrics of docs/model.md section 10, read from the file's `summary` group: the same columns, rows
and order as `shortfall run` prints), the figures of tools/plot_run.py embedded as base64 PNG (or inline SVG), and, with --analysis, the
main tables of `shortfall analyze --out`. Nothing is loaded from elsewhere.
"""
import argparse
import base64
import datetime
import html
import io
import os
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
.note{color:#5b6478;font-size:.9em}
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


SUMMARY_HEADERS = ["country", "material", "output lost (days)", "peak loss (%)",
                   "input short (days use)", "unmet final (days use)", "1st short (day)",
                   "recovery (day)"]


def summary_rows(run, top):
    """The rows of `shortfall run`'s summary table, in its order (worst first by output lost,
    then input shortage, then unmet final demand), from the file's `summary` group; '-' where
    the country has no makers, users or final users of the material."""
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
                     int(m["first_shortage_day"][c, p]), int(m["recovery_day"][c, p])])
    return SUMMARY_HEADERS, rows


def value_rows(run, top):
    """Output lost and unmet final demand in value per country (materials with a unit_value),
    as `shortfall run` prints them; [] when no material has one."""
    if run.values is None:
        return []
    lost, unmet = run.values["output_lost_value"], run.values["unmet_final_demand_value"]
    cs = [c for c in range(len(lost)) if lost[c] > 0 or unmet[c] > 0]
    cs.sort(key=lambda c: (-lost[c], c))
    return [[run.countries[c], "%.4g" % lost[c], "%.4g" % unmet[c]] for c in cs[:top]]


def figure_html(name, fig, kind):
    buf = io.BytesIO()
    if kind == "svg":
        fig.savefig(buf, format="svg")
        svg = buf.getvalue().decode("utf-8")
        svg = svg[svg.find("<svg"):]  # drop the XML prologue and doctype
        body = svg
    else:
        fig.savefig(buf, format="png", dpi=110)
        b64 = base64.b64encode(buf.getvalue()).decode("ascii")
        body = '<img alt="%s" src="data:image/png;base64,%s">' % (esc(name.replace("_", " ")), b64)
    plt.close(fig)
    return '<figure id="fig-%s">%s<figcaption>%s</figcaption></figure>' % (
        esc(name), body, esc(CAPTIONS.get(name, "")))


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


def build(run_path, analysis=None, kind="png", title=None, top=15):
    run = plot_run.Run(run_path)
    title = title or "Supply shortfall report: %s" % run.scenario_name
    out = ["<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
           "<meta name=viewport content='width=device-width,initial-scale=1'>",
           "<title>%s</title><style>%s</style></head><body><main>" % (esc(title), CSS),
           "<h1>%s</h1>" % esc(title),
           "<p class=meta>Scenario <b>%s</b>; %d days recorded; seed %s; shortfall %s; "
           "world %s; report written %s.</p>" % (
               esc(run.scenario_name), len(run.days), esc(run.seed), esc(run.program_version),
               esc((run.world_sha256 or "")[:12]),
               datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))]
    out.append("<h2>What happened</h2>")
    if run.events:
        out.append(table(["day", "days since the shock", "event"],
                         [[d, d - run.shock_day, ("ends: " if t.startswith("end:") else "") + desc]
                          for d, t, desc in run.events], numeric=(0, 1)))
    else:
        out.append("<p>No events: the baseline run.</p>")
    out.append("<h2>Losses by country and material</h2>")
    headers, rows = summary_rows(run, top)
    if rows:
        out.append("<p class=note>The run summary over %d days (worst first by output lost; "
                   "docs/model.md section 10). Output lost: days of the country's baseline "
                   "output of the material; input shortage: days of its firms' baseline use; "
                   "unmet final demand: days of its final users' use; recovery: first day from "
                   "which output &ge; 99%% of baseline and shortage &le; 1%% of use hold to the "
                   "end (-1: not recovered).</p>" % run.summary_days)
        out.append(table(headers, rows, numeric=(2, 3, 4, 5, 6, 7)))
        vrows = value_rows(run, top)
        if vrows:
            out.append("<h3>In value, per country (materials with a unit_value only)</h3>")
            out.append(table(["country", "output lost", "unmet final demand"], vrows,
                             numeric=(1, 2)))
    else:
        out.append("<p>No losses: no output lost, no input shortage and no unmet final demand "
                   "in %d days.</p>" % run.summary_days)
    out.append("<h2>Figures</h2>")
    for name, fig in plot_run.make_figures(run):
        out.append(figure_html(name, fig, kind))
    if analysis:
        out.append(analysis_html(analysis, top))
    out.append("<h2>Scenario</h2><pre>%s</pre>" % esc(run.scenario or "(not recorded)"))
    out.append("<p class=note>Source: %s. Units: each material in its own unit; quantities of "
               "different materials are never added together.</p>" % esc(
                   os.path.basename(run_path)))
    out.append("</main></body></html>\n")
    return "".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Self-contained HTML report of a shortfall run.")
    ap.add_argument("output", help="HDF5 file written by `shortfall run`")
    ap.add_argument("-o", "--out", required=True, help="HTML file to write")
    ap.add_argument("--analysis", help="HDF5 file written by `shortfall analyze --out`")
    ap.add_argument("--figures", choices=("png", "svg"), default="png",
                    help="embed figures as base64 PNG (default) or inline SVG")
    ap.add_argument("--title")
    ap.add_argument("--top", type=int, default=15, help="rows per table")
    args = ap.parse_args(argv)
    try:
        page = build(args.output, args.analysis, args.figures, args.title, args.top)
    except (OSError, KeyError) as e:
        print("error: %s: not a shortfall run output (%s)" % (args.output, e), file=sys.stderr)
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
