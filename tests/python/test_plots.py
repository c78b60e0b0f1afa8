#!/usr/bin/python3
"""The picture scripts run on small outputs and write their files; `shortfall analyze --out`
writes readable HDF5 groups.

    /usr/bin/python3 tests/python/test_plots.py <shortfall binary> <source dir>
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import h5py

SHORTFALL, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
PY = "/usr/bin/python3"
TOOLS = os.path.join(SRC, "sim", "plots")
TMP = tempfile.mkdtemp(prefix="shortfall-plots-")
RESULTS = []


def test(fn):
    RESULTS.append(fn)
    return fn


def sh(*args, ok=True):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=600)
    if ok and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(args), p.returncode,
                                                          p.stdout, p.stderr))
    return p


def run_output(scenario, name):
    out = os.path.join(TMP, name + ".h5")
    if not os.path.exists(out):
        sh(SHORTFALL, "run", os.path.join(SRC, "scenarios", scenario), "--out", out, "-q")
    return out


def check_picture(path, fmt):
    assert os.path.isfile(path), "missing " + path
    with open(path, "rb") as f:
        head = f.read(4096)
    if fmt == "png":
        assert head.startswith(b"\x89PNG"), path + " is not a PNG"
        assert os.path.getsize(path) > 5000, path + " is suspiciously small"
    else:
        assert b"<svg" in head, path + " is not an SVG"


FIGS = ("output_lost_by_material", "shortage_by_material", "shortage_by_country", "loss_heatmap",
        "propagation_front", "inventory_cover")


@test
def plot_run_png_and_svg():
    h5 = run_output("example-gallium-cut.yaml", "gallium")
    for fmt in ("png", "svg"):
        d = os.path.join(TMP, "plots-" + fmt)
        p = sh(PY, os.path.join(TOOLS, "plot_run.py"), h5, "--outdir", d, "--format", fmt)
        for name in FIGS:
            check_picture(os.path.join(d, "%s.%s" % (name, fmt)), fmt)
        assert p.stdout.count("\n") == len(FIGS), p.stdout


@test
def plot_run_labels_are_readable():
    # Country names, material names and 'days since the shock' reach the pictures.
    d = os.path.join(TMP, "plots-svg")
    if not os.path.isdir(d):
        plot_run_png_and_svg()
    with open(os.path.join(d, "shortage_by_material.svg")) as f:
        svg = f.read()
    for text in ("Japan", "days since the shock", "Gallium (refined)",
                 "input shortage (t per day)"):
        assert text in svg, "%r not in the picture" % text
    # The units of docs/model.md section 10 on the axes; the backlog (a diagnostic) not drawn.
    for name, texts in (("output_lost_by_material", ("output lost (wafer per day)",)),
                        ("shortage_by_country", ("% of baseline daily use",)),
                        ("loss_heatmap", ("days of baseline output", "days of baseline use"))):
        with open(os.path.join(d, name + ".svg")) as f:
            svg = f.read()
        for text in texts:
            assert text in svg, "%r not in %s" % (text, name)
    for name in FIGS:
        with open(os.path.join(d, name + ".svg")) as f:
            assert "backlog" not in f.read(), name


@test
def plot_run_without_shortage():
    h5 = run_output("example-baseline.yaml", "baseline")
    d = os.path.join(TMP, "plots-baseline")
    sh(PY, os.path.join(TOOLS, "plot_run.py"), h5, "--outdir", d)
    for name in FIGS:
        check_picture(os.path.join(d, name + ".png"), "png")


@test
def plot_run_rejects_a_non_run_file():
    bad = os.path.join(TMP, "not-a-run.h5")
    with h5py.File(bad, "w") as f:
        f["x"] = np.arange(3)
    p = sh(PY, os.path.join(TOOLS, "plot_run.py"), bad, "--outdir", TMP, ok=False)
    assert p.returncode == 2 and "not a shortfall run output" in p.stderr, p.stderr


def synthetic_sweep(path, summary=True, axes_attr=True):
    """A tiny sweep in the layout of `shortfall sweep` (its `summary` group): 3 meeting_days x
    2 tau x 3 replicates. Without summary: a per-run outcome alone, at the root."""
    md = np.repeat([5, 15, 30], 6)
    tau = np.tile(np.repeat([3.0, 6.0], 3), 3)
    rep = np.tile([0, 1, 2], 6)
    n, C, M = len(md), 2, 2
    rng = np.random.default_rng(1)
    # Output lost grows with the meeting delay; replicates differ a little.
    lost = (md[:, None, None] / 3.0) * (1 + 0.1 * rng.random((n, C, M)))
    with h5py.File(path, "w") as f:
        g = f.create_group("summary") if summary else f
        g["run"] = np.arange(n)
        g["country"] = np.array([b"JPN", b"USA"])
        g["country_name"] = np.array([b"Japan", b"United States"])
        g["material"] = np.array([b"gallium", b"ev"])
        g["material_unit"] = np.array([b"t", b"vehicle"])
        g["meeting_days"] = md
        g["tau"] = tau
        g["replicate"] = rep
        g["seed"] = rep + 1
        g["point"] = np.arange(n) // 3
        if axes_attr:
            g.attrs["axes"] = "meeting_days tau"
        if summary:
            for name, data, units in (
                    ("output_lost_days", lost, "days of baseline output"),
                    ("peak_output_loss", lost / 20.0, "fraction of baseline output"),
                    ("shortage_days", 2 * lost, "days of baseline use"),
                    ("output_lost_units", lost * np.array([3.0, 50.0]), "units of the material")):
                g[name] = data
                g[name].attrs["units"] = units
            g["recovery_day"] = np.where(md[:, None, None] > 20, -1,
                                         30 + md[:, None, None] + np.zeros((n, C, M), int)
                                         ).astype(np.int32)
        else:
            f["lost_share"] = md / 100.0
    return path


@test
def plot_sweep_full_layout():
    sw = synthetic_sweep(os.path.join(TMP, "sweep.h5"))
    for k, extra in enumerate(([], ["--metric", "peak_output_loss"],
                               ["--metric", "shortage_days"], ["--metric", "recovery_day"],
                               ["--metric", "output_lost_units"],
                               ["--country", "JPN", "--material", "gallium"])):
        out = os.path.join(TMP, "sweep-%d.svg" % k)
        sh(PY, os.path.join(TOOLS, "plot_sweep.py"), sw, "--by", "meeting_days", "--out", out,
           "--format", "svg", *extra)
        check_picture(out, "svg")
        with open(out) as f:
            svg = f.read()
        # The axes carry the units of docs/model.md section 10.
        unit = ["days of baseline output", "% of baseline output", "days of baseline use",
                "runs not recovered left out", "output lost (t)", "days of baseline output"][k]
        assert unit in svg, (extra, unit)
    out = os.path.join(TMP, "sweep.png")
    sh(PY, os.path.join(TOOLS, "plot_sweep.py"), sw, "--by", "tau", "--out", out)
    check_picture(out, "png")


@test
def plot_sweep_per_run_metric():
    sw = synthetic_sweep(os.path.join(TMP, "sweep-run.h5"), summary=False, axes_attr=False)
    p = sh(PY, os.path.join(TOOLS, "plot_sweep.py"), sw, "--by", "meeting_days")
    check_picture(p.stdout.strip(), "png")


@test
def plot_sweep_errors_name_what_exists():
    sw = synthetic_sweep(os.path.join(TMP, "sweep.h5"))
    p = sh(PY, os.path.join(TOOLS, "plot_sweep.py"), sw, "--by", "meeting_dayz", ok=False)
    assert p.returncode == 2 and "meeting_days" in p.stderr, p.stderr


@test
def plot_sweep_on_a_real_sweep():
    helptext = sh(SHORTFALL, "--help").stdout
    spec = os.path.join(SRC, "scenarios", "sweeps", "example-license-share.yaml")
    if " sweep" not in helptext or not os.path.isfile(spec):
        print("  (no `shortfall sweep` or example sweep: synthetic files only)")
        return
    out = os.path.join(TMP, "real-sweep.h5")
    sh(SHORTFALL, "sweep", spec, "--out", out, "-q")
    with h5py.File(out, "r") as f:
        axes = f.attrs.get("axes")
        axes = (axes.decode() if isinstance(axes, bytes) else str(axes)).split()
    assert axes, "the sweep names no axes"
    pic = os.path.join(TMP, "real-sweep.png")
    sh(PY, os.path.join(TOOLS, "plot_sweep.py"), out, "--by", axes[0], "--out", pic)
    check_picture(pic, "png")
    # Panels and report rows name a material as the world does, not by its id.
    sys.path.insert(0, TOOLS)
    import plot_sweep
    sw = plot_sweep.Sweep(out)
    with h5py.File(out, "r") as f:
        names = [n.decode() for n in f["country_material/material_name"][()]]
    assert sw.material_names == names and sw.material_names != sw.materials, sw.material_names


@test
def analyze_writes_hdf5_groups():
    out = os.path.join(TMP, "analysis.h5")
    p = sh(SHORTFALL, "analyze", os.path.join(SRC, "scenarios", "example-gallium-cut.yaml"),
           "--out", out, "--top", "5", "--simulate-top", "3", "--days", "60")
    for text in ("Dependency", "Pass-through", "betweenness", "knockout", "ESRI"):
        assert text in p.stdout, "%r missing from the table" % text
    with h5py.File(out, "r") as f:
        for g in ("dependency", "pass_through", "chokepoints", "esri"):
            assert g in f, "group %s missing" % g
        share = f["dependency/share"][()]
        C = f["dependency/origin_country"].shape[0]
        assert share.shape[-1] == C
        sums = np.nansum(share, axis=-1)
        defined = np.isfinite(share).any(axis=-1)
        assert np.allclose(sums[defined], 1.0), "shares do not sum to 1"
        hhi = f["dependency/hhi"][()]
        assert np.all((hhi[np.isfinite(hhi)] > 0) & (hhi[np.isfinite(hhi)] <= 1 + 1e-12))
        freq = f["pass_through/frequency"][()]
        assert np.all((freq[np.isfinite(freq)] >= 0) & (freq[np.isfinite(freq)] <= 1))
        assert f["chokepoints/candidate"].shape[0] > 0
        lost = f["chokepoints/lost_share"][()]
        assert np.all(lost[np.isfinite(lost)] >= 0)
        esri = f["esri/esri"][()]
        assert esri.shape == (f["esri/firm"].shape[0],) and np.all((esri >= 0) & (esri <= 1))
        # Dimension scales are attached, as xarray (h5netcdf) expects.
        assert "DIMENSION_LIST" in f["dependency/share"].attrs


@test
def overlapping_shocks_are_hatched():
    # A shock whose days overlap an earlier shock's is hatched, so that the two can be told
    # apart where both are shaded; a shock that starts when another ends stays plain.
    sc = os.path.join(TMP, "overlap.yaml")
    with open(sc, "w") as f:
        f.write("name: overlap\nworld: %s\ndays: 60\nevents:\n" % os.path.join(
            SRC, "scenarios", "worlds", "example.yaml"))
        for name, start, end in (("first", 0, 20), ("second", 10, 30), ("third", 20, 40),
                                  ("fourth", 40, 50)):
            f.write("  - {type: export_control, name: %s, start: %d, end: %d, exporters: [CHN], "
                    "materials: [gallium], targets: [ipef], license_share: 0.5}\n"
                    % (name, start, end))
    out = os.path.join(TMP, "overlap.h5")
    sh(SHORTFALL, "run", sc, "--out", out, "-q")
    sys.path.insert(0, TOOLS)
    import plot_run
    marks = {m.label.split(" (")[0]: m for m in plot_run.Run(out).marks if m.kind == "shock"}
    assert sorted(marks) == ["first", "fourth", "second", "third"], sorted(marks)
    # "third" starts on day 20, when "first" ends, but overlaps "second" (days 10-30): the
    # second hatching; "fourth" starts when "third" ends and overlaps nothing.
    hatches = {k: m.hatch for k, m in marks.items()}
    assert hatches == {"first": None, "second": "///", "third": "\\\\\\",
                       "fourth": None}, hatches
    d = os.path.join(TMP, "plots-overlap")
    sh(PY, os.path.join(TOOLS, "plot_run.py"), out, "--outdir", d)
    check_picture(os.path.join(d, "output_lost_by_material.png"), "png")


def main():
    return harness.run_all(RESULTS, TMP)


if __name__ == "__main__":
    sys.exit(main())
