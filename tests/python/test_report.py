#!/usr/bin/python3
"""`shortfall report` writes one self-contained HTML page, and headless Chromium renders it with
its figures. Without /usr/bin/chromium the rendering checks are skipped (the page checks run).

    /usr/bin/python3 tests/python/test_report.py <shortfall binary> <source dir>
"""
import os
import re
import subprocess
import sys
import tempfile

SHORTFALL, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
PY = "/usr/bin/python3"
TMP = tempfile.mkdtemp(prefix="shortfall-report-")
CHROMIUM = next((c for c in ("/usr/bin/chromium", "/usr/bin/chromium-browser")
                 if os.path.exists(c)), None)
NFIG = 6
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def sh(*args, ok=True, timeout=600, env=None):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=env)
    if ok and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(args), p.returncode,
                                                          p.stdout, p.stderr))
    return p


def inputs():
    run = os.path.join(TMP, "gallium.h5")
    ana = os.path.join(TMP, "analysis.h5")
    if not os.path.exists(run):
        sh(SHORTFALL, "run", os.path.join(SRC, "scenarios", "example-gallium-cut.yaml"), "--out",
           run, "-q")
    if not os.path.exists(ana):
        sh(SHORTFALL, "analyze", os.path.join(SRC, "scenarios", "example-gallium-cut.yaml"),
           "--out", ana, "--simulate-top", "2", "--days", "30", "-q")
    return run, ana


def report_via_cli():
    page = os.path.join(TMP, "report.html")
    if not os.path.exists(page):
        run, ana = inputs()
        # From another folder, so that report.py is found from the executable, not the cwd.
        env = dict(os.environ)
        env.pop("SHORTFALL_SOURCE_DIR", None)
        p = subprocess.run([SHORTFALL, "report", run, "-o", page, "--analysis", ana],
                           capture_output=True, text=True, timeout=600, cwd=TMP, env=env)
        assert p.returncode == 0, p.stdout + p.stderr
    return page


def chromium(*args):
    profile = tempfile.mkdtemp(prefix="chromium-", dir=TMP)
    return sh(CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
              "--no-first-run", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--user-data-dir=" + profile, *args, timeout=180)


@test
def cli_writes_a_self_contained_page():
    with open(report_via_cli(), encoding="utf-8") as f:
        page = f.read()
    assert page.startswith("<!DOCTYPE html>")
    imgs = re.findall(r'<img [^>]*src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', page)
    assert len(imgs) == NFIG, "expected %d embedded figures, found %d" % (NFIG, len(imgs))
    # Nothing is fetched from elsewhere: no external src, href or stylesheet.
    assert not re.search(r'(src|href)\s*=\s*"(https?:|//|file:)', page), "external reference"
    for text in ("example-gallium-cut", "Losses by country and material", "license_share",
                 "Chokepoints", "systemic risk"):
        assert text in page, "%r missing from the page" % text


@test
def headline_table_is_the_run_summary():
    # The report's table has the columns, rows and order that `shortfall run` prints, read
    # from the file's summary group (nothing recomputed from the daily series).
    scen = os.path.join(SRC, "scenarios", "example-gallium-cut.yaml")
    printed = sh(SHORTFALL, "run", scen, "--out", os.path.join(TMP, "again.h5")).stdout
    lines = printed.splitlines()
    head = next(k for k, l in enumerate(lines) if l.split()[:3] == ["country", "material",
                                                                     "output"])
    cli_rows = []
    for l in lines[head + 2:]:
        parts = l.split()
        if len(parts) != 8 or not l.startswith("  "):
            break
        cli_rows.append(parts)
    assert cli_rows, printed
    with open(report_via_cli(), encoding="utf-8") as f:
        page = f.read()
    body = page[page.index("Losses by country and material"):]
    body = body[:body.index("</table>")]
    headers = re.findall(r"<th>([^<]*)</th>", body)
    assert headers == ["country", "material", "output lost (days of baseline output)",
                       "peak output loss (% of baseline output)",
                       "input shortage (days of baseline use)",
                       "unmet final demand (days of baseline final use)",
                       "first day of input shortage", "recovered from day"], headers
    html_rows = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in body.split("<tr>")[2:]]
    # The CLI's -1 is written out: never short ('none'), not recovered.
    words = {6: {"none": "-1"}, 7: {"not recovered": "-1"}}
    html_rows = [[words.get(k, {}).get(v, v) for k, v in enumerate(r)] for r in html_rows]
    assert html_rows == cli_rows, (html_rows, cli_rows)
    assert "backlog" not in body


@test
def inline_svg_figures():
    run, _ = inputs()
    page = os.path.join(TMP, "report-svg.html")
    sh(PY, os.path.join(SRC, "sim", "plots", "report.py"), run, "-o", page, "--figures", "svg")
    with open(page, encoding="utf-8") as f:
        html = f.read()
    assert html.count("<svg") >= NFIG, "inline SVG figures missing"
    assert "<?xml" not in html


@test
def missing_input_is_reported():
    p = sh(SHORTFALL, "report", os.path.join(TMP, "nope.h5"), "-o", os.path.join(TMP, "x.html"),
           ok=False)
    assert p.returncode != 0 and "nope.h5" in p.stderr, p.stderr


@test
def chromium_renders_the_figures():
    if CHROMIUM is None:
        print("  SKIP: no /usr/bin/chromium (apt-get install chromium to run this check)")
        return
    page = report_via_cli()
    dom = chromium("--dump-dom", "file://" + page).stdout
    figures = re.findall(r'<figure id="fig-([a-z_]+)"><img [^>]*src="data:image/png', dom)
    assert len(figures) == NFIG, "the rendered page has %d figures: %s" % (len(figures), figures)
    shot = os.path.join(TMP, "report.png")
    chromium("--screenshot=" + shot, "--window-size=1200,2000", "file://" + page)
    assert os.path.isfile(shot) and os.path.getsize(shot) > 20000, "no screenshot"
    # The screenshot shows drawn figures, not a blank page: many non-white pixels.
    import matplotlib.image as mpimg
    img = mpimg.imread(shot)[..., :3]
    inked = (img.min(axis=2) < 0.9).mean()
    assert inked > 0.03, "the page looks blank (%.3f of the pixels inked)" % inked


def main():
    return harness.run_all(TESTS, TMP)


if __name__ == "__main__":
    sys.exit(main())
