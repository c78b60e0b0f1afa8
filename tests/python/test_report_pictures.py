#!/usr/bin/python3
"""The report puts the answer first and says each thing once; the run pictures mark each event
once and keep legends and titles out of the plots; `report` on a sweep file writes a sweep
report (the distribution of the headline metrics and the axes that move them).

    /usr/bin/python3 tests/python/test_report_pictures.py <shortfall binary> <source dir>
"""
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

SHORTFALL, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(SRC, "sim", "plots"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import plot_run  # noqa: E402
import report  # noqa: E402

TMP = tempfile.mkdtemp(prefix="shortfall-report-pictures-")
CACHE = {}


def sh(*args, ok=True):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=600)
    if ok and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(args), p.returncode,
                                                          p.stdout, p.stderr))
    return p


def ipef_run():
    """The IPEF timing study: a stockpile released on ~20 days by each of two countries."""
    path = os.path.join(TMP, "ipef.h5")
    if not os.path.exists(path):
        sh(SHORTFALL, "run", os.path.join(SRC, "scenarios", "ipef-response-timing.yaml"),
           "--out", path, "-q")
    return path


def ipef_page():
    if "page" not in CACHE:
        out = os.path.join(TMP, "ipef.html")
        sh(SHORTFALL, "report", ipef_run(), "-o", out)
        with open(out, encoding="utf-8") as f:
            CACHE["page"] = f.read()
    return CACHE["page"]


def section_table(page, heading):
    """(headers, rows) of the first table after the <h2> heading."""
    body = page[page.index("<h2>%s</h2>" % heading):]
    body = body[:body.index("</table>")]
    headers = re.findall(r"<th>([^<]*)</th>", body)
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in body.split("<tr>")[2:]]
    return headers, rows


def repeated_actions_are_one_row_each():
    page = ipef_page()
    headers, rows = section_table(page, "What happened")
    texts = [r[1] for r in rows]
    # The run logs 41 daily stockpile releases; the table has one row per stockpile.
    assert "released to 21 buyers" not in page, "a daily release row is back"
    for pile in ("JPN gallium stockpile", "USA gallium stockpile"):
        mine = [t for t in texts if t.startswith(pile)]
        assert len(mine) == 1, (pile, texts)
        assert re.search(r"released on \d+ days, d\d+–d\d+, [\d.,]+ t Ga to [\d–]+ buyers",
                         mine[0]), mine[0]
    assert len(rows) <= 14, texts
    # The days column holds a day or a span of days, in order.
    firsts = [int(r[0].split("–")[0]) for r in rows]
    assert firsts == sorted(firsts), firsts
    assert all(re.fullmatch(r"\d+(–\d+)?", r[0]) for r in rows), rows


def one_day_column():
    # With the shock on day 0, 'day' and 'days since the shock' would be the same column.
    headers, _ = section_table(ipef_page(), "What happened")
    assert headers == ["day", "event or policy action"], headers


def headers_match_their_columns():
    headers, rows = section_table(ipef_page(), "Losses by country and material")
    assert rows
    number = r"-?\d+\.\d+|-"
    expect = {  # header -> what every cell of its column must look like
        "country": r"[A-Z]{3}", "material": r"[a-z0-9_]+",
        "output lost (days of baseline output)": number,
        "peak output loss (% of baseline output)": number,
        "input shortage (days of baseline use)": number,
        "unmet final demand (days of baseline final use)": number,
        "first day of input shortage": r"\d+|none",
        "recovered from day": r"\d+|not recovered",
    }
    assert headers == list(expect), headers
    for r in rows:
        for h, v in zip(headers, r):
            assert re.fullmatch(expect[h], v), (h, v)
    # The percentage column holds percentages: 100 x the summary's fraction.
    run = plot_run.Run(ipef_run())
    for r in rows:
        c, p = run.countries.index(r[0]), run.materials.index(r[1])
        if r[3] != "-":
            assert abs(float(r[3]) - 100 * run.summary["peak_output_loss"][c, p]) < 0.01, r


def answer_first():
    page = ipef_page()
    lead = page.index("<p class=lead>Worst hit:")
    table = page.index("<h2>Losses by country and material</h2>")
    fig = page.index('<figure id="fig-output_lost_by_material">')
    events = page.index("<h2>What happened</h2>")
    assert lead < table < fig < events, (lead, table, fig, events)


def events_are_marked_once_in_the_figures():
    run = plot_run.Run(ipef_run())
    # 41 stockpile_release records: two legend entries (one per stockpile), one shading.
    piles = [m for m in run.marks if m.kind == "stockpile"]
    assert len(piles) == 2, [m.label for m in run.marks]
    assert sum(len(m.spans) for m in piles) <= 3, [m.spans for m in piles]
    fig = plot_run.fig_output_lost_by_material(run)
    ax = fig.axes[0]
    vertical = [ln for ln in ax.lines if len(set(np.asarray(ln.get_xdata(), float))) == 1]
    assert len(vertical) <= 8, "%d vertical lines in one panel" % len(vertical)
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert len(labels) == len(set(labels)), labels
    assert any("stockpile" in t for t in labels) and any("meeting" in t for t in labels), labels
    plot_run.plt.close(fig)


def legends_and_titles_stay_out_of_the_plots():
    run = plot_run.Run(ipef_run())
    for name, fig in plot_run.make_figures(run):
        r = fig.canvas.get_renderer()
        fig.canvas.draw()
        boxes = [ax.get_window_extent(r) for ax in fig.axes if ax.get_visible()
                 and ax.get_label() != "<colorbar>"]
        for ax in fig.axes:
            assert ax.get_legend() is None or not any(
                ax.get_legend().get_window_extent(r).overlaps(b) for b in boxes), \
                "%s: a legend covers a plot" % name
        for leg in fig.legends:
            assert not any(leg.get_window_extent(r).overlaps(b) for b in boxes), \
                "%s: the legend covers a plot" % name
        if fig._suptitle is not None:
            st = fig._suptitle.get_window_extent(r)
            assert not any(st.overlaps(b) for b in boxes), "%s: title on a plot" % name
            assert "?" in fig._suptitle.get_text(), "%s: no question in the title" % name
        # Everything drawn lands in the saved picture (bbox_inches='tight').
        out = os.path.join(TMP, name + ".png")
        plot_run.save(fig, out)
        assert os.path.getsize(out) > 5000, out
        plot_run.plt.close(fig)


def sweep_file():
    path = os.path.join(TMP, "sweep.h5")
    if not os.path.exists(path):
        sh(SHORTFALL, "sweep", os.path.join(SRC, "scenarios", "sweeps",
                                            "example-license-share.yaml"), "--out", path, "-q")
    return path


def report_of_a_sweep():
    out = os.path.join(TMP, "sweep.html")
    p = sh(SHORTFALL, "report", sweep_file(), "-o", out, ok=False)
    assert p.returncode == 0, p.stdout + p.stderr
    with open(out, encoding="utf-8") as f:
        page = f.read()
    headers, rows = section_table(page, "The headline metrics over the runs")
    assert headers == ["country", "material", "metric", "min", "5%", "median", "95%", "max"]
    assert rows and all(float(r[3]) <= float(r[5]) <= float(r[7]) for r in rows), rows
    headers, corr = section_table(page, "Which axes move them")
    assert headers[3:] == ["rank correlation with license_share", "rank correlation with tau"]
    # Less licensed gallium, more output lost: the correlation with the licence share of
    # output lost is negative wherever it is defined.
    lost = [r for r in corr if r[2].startswith("output lost") and r[3] != "-"]
    assert lost and all(float(r[3]) < 0 for r in lost), corr
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)) >= 2
    assert "sweep_distribution" in page


def spearman_by_hand():
    assert abs(report.spearman([1, 2, 3, 4], [10, 20, 30, 40]) - 1) < 1e-12
    assert abs(report.spearman([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12
    assert abs(report.spearman([1, 1, 2, 2], [1, 2, 3, 4]) - 0.8944271909999159) < 1e-12
    assert np.isnan(report.spearman([1, 2, 3], [5, 5, 5]))


def neither_run_nor_sweep_is_refused_clearly():
    bad = os.path.join(TMP, "other.h5")
    with h5py.File(bad, "w") as f:
        f["x"] = np.arange(3)
    p = sh(SHORTFALL, "report", bad, "-o", os.path.join(TMP, "x.html"), ok=False)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "neither a `shortfall run` nor a `shortfall sweep` output" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr, p.stderr


def headline_names_read_whole():
    # A material's name in the headline sentence loses its parenthesised details whole, not at
    # the first comma inside them (which left "fluoride (etching/cleaning makers lost ...").
    cases = {
        "High-purity hydrogen fluoride (etching/cleaning, liquid and gas)":
            "high-purity hydrogen fluoride",
        "Mature-node chips (>=28 nm; MCU, analog, power, PMIC) wafer starts":
            "mature-node chips wafer starts",
        "Heavy REE (Dy, Tb) oxides and metals": "heavy REE oxides and metals",
        "Li-ion battery cells": "Li-ion battery cells",  # a symbol keeps its capital
        "GaN power device": "GaN power device",
        "Tungsten concentrate / APT": "tungsten concentrate / APT",
        "EUV": "EUV",
    }
    got = {name: report.sentence_name(name) for name in cases}
    assert got == cases, got
    # Countries keep their capitals and lose their lists of members; a plural name ending in
    # "s" takes a bare apostrophe.
    country = report.sentence_name("Rest of EU-27 (BEL, FIN, FRA, ...)", lower=False)
    assert country == "Rest of EU-27", country
    assert [report.possessive(n) for n in ("Japan", "United States", country)] == [
        "Japan's", "United States'", "Rest of EU-27's"]
    # Every material of the default world (as the run file names them): no bracket left open
    # or closed alone.
    for name in plot_run.Run(ipef_run()).material_names:
        short = report.sentence_name(name)
        assert short and "(" not in short and ")" not in short, (name, short)


def labels_wrap_between_words():
    # Tick labels and titles break between words, after hyphens and after slashes, never
    # inside a word ("fluoride (etchin" / "g/cleaning," before).
    assert plot_run.wrap("High-purity hydrogen fluoride (etching/cleaning, liquid and gas)",
                         16).split("\n") == ["High-purity", "hydrogen", "fluoride",
                                             "(etching/", "cleaning, liquid", "and gas)"]
    assert plot_run.wrap("Tungsten concentrate / APT", 16) == "Tungsten\nconcentrate /\nAPT"
    assert plot_run.wrap("short", 16) == "short"
    # A word far longer than the line (an id without spaces) is still split to fit.
    assert max(map(len, plot_run.wrap("x" * 40, 16).split("\n"))) == 16


def main():
    return harness.run_all((repeated_actions_are_one_row_each, one_day_column,
                            headers_match_their_columns, answer_first,
                            events_are_marked_once_in_the_figures,
                            legends_and_titles_stay_out_of_the_plots, report_of_a_sweep,
                            spearman_by_hand, neither_run_nor_sweep_is_refused_clearly,
                            headline_names_read_whole, labels_wrap_between_words), TMP)


if __name__ == "__main__":
    sys.exit(main())
