#!/usr/bin/env python3
"""Sweep output read back with xarray (engine h5netcdf) and h5py.

Usage: test_sweep_xarray.py <shortfall binary> <source dir>

Runs scenarios/sweeps/example-license-share.yaml and checks: the groups `country_material` and
`summary` of a run file, each with a leading `run` dimension and the per-run coordinates (one
per axis, replicate, seed, point); that `set_xindex("tau").sel(tau=6)` and
`set_index(run=[...]).unstack("run")` work as docs/sweeps.md says; that run k's series and
every dataset of its `summary` group equal, bit for bit, `shortfall run` on the run's scenario
(--print-scenario); that the same xarray code reads a run file's and a sweep file's `summary`;
that the metrics follow from the daily series by docs/model.md section 10; that `shortfall
compare --csv` agrees with xarray's own group means; and --threads 1 vs 2 identical files.
Prints "N passed, M failed".
"""
import csv
import io
import os
import shutil
import sys
import tempfile
import warnings

import h5py
import numpy as np
import xarray as xr

from harness import Checks, run

CHECKS = Checks()
check = CHECKS.check


def main():
    binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    sweep = os.path.join(src, "scenarios", "sweeps", "example-license-share.yaml")
    tmp = tempfile.mkdtemp(prefix="shortfall-sweep-py-")
    out1 = os.path.join(tmp, "t1.h5")
    out2 = os.path.join(tmp, "t2.h5")
    run(binary, ["sweep", sweep, "--out", out1, "--threads", "1", "--quiet"])
    run(binary, ["sweep", sweep, "--out", out2, "--threads", "2", "--quiet"])
    ds = xr.open_dataset(out1, engine="h5netcdf", group="country_material")
    sm = xr.open_dataset(out1, engine="h5netcdf", group="summary")
    series = ["production", "output_lost", "shortage", "unmet_final_demand", "order_backlog",
              "inventory_days"]

    def layout():
        assert dict(ds.sizes) == {"run": 36, "day": 240, "country": 4, "material": 4}, ds.sizes
        assert dict(sm.sizes) == {"run": 36, "country": 4, "material": 4}, sm.sizes
        for d in (ds, sm):
            for c in ["license_share", "tau", "replicate", "seed", "point"]:
                assert c in d.coords, c
                assert d[c].dims == ("run",), (c, d[c].dims)
            assert d.license_share.dtype == np.float64
            assert d.tau.dtype == np.int64
            assert d.license_share.attrs["key_path"] == \
                "events[CHN gallium licensing].license_share"
            assert list(d.country.values) == ["CHN", "JPN", "USA", "DEU"]
        for v in series:
            assert ds[v].dims == ("run", "day", "country", "material"), v
        assert "diagnostic" in ds.order_backlog.attrs["long_name"]
        for v in ["output_lost_days", "peak_output_loss", "shortage_days",
                  "unmet_final_demand_days", "output_lost_units", "unmet_final_demand_units",
                  "first_shortage_day", "recovery_day"]:
            assert sm[v].dims == ("run", "country", "material"), v
        assert sm.recovery_day.dtype == np.int32  # not decoded as a timedelta
        assert sm.shortage_days.attrs["units"] == "days of baseline use"
        # No summary variable from before model 10 is left.
        for old in ["total_shortage", "peak_shortage", "days_in_shortage", "peak_shortage_day"]:
            assert old not in sm and old not in ds, old
        with h5py.File(out1, "r") as f:
            assert f.attrs["axes"] == "license_share tau"
            assert "axes:" in f.attrs["sweep"] and "export_control" in f.attrs["base_scenario"]
            assert "shortage_threshold" not in f.attrs
        # grid order: first axis slowest, replicates fastest
        assert list(ds.replicate.values[:4]) == [0, 1, 0, 1]
        assert list(ds.tau.values[:6]) == [3, 3, 6, 6, 12, 12]
        assert list(ds.seed.values[:2]) == [1, 2]
        np.testing.assert_allclose(ds.license_share.values[::6], [0, 0.1, 0.2, 0.3, 0.4, 0.5])

    def select_by_value():
        sel = sm.set_xindex("tau").sel(tau=6)
        assert sel.sizes["run"] == 12
        assert (sel.tau.values == 6).all()
        one = ds.set_xindex("license_share").sel(license_share=0.1)
        assert one.sizes["run"] == 6
        with warnings.catch_warnings():  # numpy warns about casting the (unused) fill value
            warnings.simplefilter("ignore", RuntimeWarning)
            grid = ds.set_index(run=["license_share", "tau", "replicate"]).unstack("run")
        assert grid.shortage.sizes["license_share"] == 6 and grid.shortage.sizes["tau"] == 3
        a = grid.shortage.sel(license_share=0.2, tau=12, replicate=1)
        run_index = int(np.flatnonzero((np.isclose(ds.license_share, 0.2)) & (ds.tau == 12)
                                       & (ds.replicate == 1))[0])
        np.testing.assert_array_equal(a.transpose("day", "country", "material").values,
                                      ds.shortage.isel(run=run_index).values)

    k = 23  # license_share 0.3, tau 12, replicate 1
    alone = os.path.join(tmp, "alone.h5")

    def run_alone_matches():
        text = run(binary, ["sweep", sweep, "--print-scenario", str(k)])
        assert text.startswith("# run 23 of sweep example-license-share")
        scen = os.path.join(tmp, "run23.yaml")  # the world path in it is absolute
        with open(scen, "w", encoding="utf-8") as f:
            f.write(text)
        run(binary, ["run", scen, "--out", alone, "--quiet", "--threads", "2"])
        with h5py.File(alone, "r") as f, h5py.File(out1, "r") as sw:
            cm = f["country_material"]
            for v in series:
                np.testing.assert_array_equal(cm[v][()], ds[v].isel(run=k).values, err_msg=v)
            assert int(f.attrs["seed"]) == int(ds.seed[k]) == 2
            # Every dataset of the run file's summary group, bit for bit, in the sweep's.
            names = [n for n in f["summary"] if n not in ("country", "material")]
            assert "output_lost_days" in names and "recovery_day" in names, names
            for n in names:
                a, b = f["summary"][n][()], sw["summary"][n][k]
                assert a.dtype == b.dtype and a.shape == b.shape, (n, a.dtype, b.dtype)
                assert a.tobytes() == b.tobytes(), n
            extra = set(sw["summary"]) - set(f["summary"]) - {
                "run", "license_share", "tau", "replicate", "seed", "point", "country_name",
                "material_unit"}
            assert not extra, extra

    def same_code_opens_run_and_sweep_summary():
        if not os.path.exists(alone):
            run_alone_matches()

        def worst(path):
            """The same xarray code for both files: the summary group's headline by pair."""
            with xr.open_dataset(path, engine="h5netcdf", group="summary") as s:
                lost = s.output_lost_days.sel(country="JPN", material="gan_wafer")
                short = s.shortage_days.sel(country="JPN", material="gallium")
                return lost.load(), short.load(), s.recovery_day.load()
        r_lost, r_short, r_rec = worst(alone)
        s_lost, s_short, s_rec = worst(out1)
        assert r_lost.dims == () and s_lost.dims == ("run",)
        assert s_rec.dims == ("run", "country", "material") and r_rec.dims[1:] == \
            s_rec.dims[2:]
        assert float(r_lost) == float(s_lost.isel(run=k)) and float(r_lost) > 0
        assert float(r_short) == float(s_short.isel(run=k)) and float(r_short) > 0
        np.testing.assert_array_equal(r_rec.values, s_rec.isel(run=k).values)

    def metrics_follow_from_series():
        # docs/model.md section 10 from the daily series (every day recorded) and the
        # baselines in the file.
        out0 = ds.baseline_output.values
        use = ds.baseline_use.values
        fin = ds.baseline_final_use.values
        lost, s = ds.output_lost.values, ds.shortage.values  # (run, day, country, material)
        unmet, prod = ds.unmet_final_demand.values, ds.production.values
        with np.errstate(divide="ignore", invalid="ignore"):
            def days_of(x, base):
                return np.where(base > 0, (x / np.where(base > 0, base, 1)).sum(axis=1), 0.0)
            np.testing.assert_allclose(sm.output_lost_days.values, days_of(lost, out0),
                                       rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(sm.shortage_days.values, days_of(s, use), rtol=1e-12,
                                       atol=1e-12)
            np.testing.assert_allclose(sm.unmet_final_demand_days.values, days_of(unmet, fin),
                                       rtol=1e-12, atol=1e-12)
            peak = np.where(out0 > 0, (lost / np.where(out0 > 0, out0, 1)).max(axis=1), 0.0)
        np.testing.assert_allclose(sm.peak_output_loss.values, peak, rtol=1e-15, atol=0)
        np.testing.assert_allclose(sm.output_lost_units.values, lost.sum(axis=1), rtol=1e-12)
        np.testing.assert_allclose(sm.unmet_final_demand_units.values, unmet.sum(axis=1),
                                   rtol=1e-12)
        short = s > 1e-9 * use
        first = np.where(short.any(axis=1), np.argmax(short, axis=1), -1)
        np.testing.assert_array_equal(first, sm.first_shortage_day.values)
        bad = ~((prod >= 0.99 * out0) & (s <= 0.01 * use))
        last = np.where(bad.any(axis=1), 239 - np.argmax(bad[:, ::-1], axis=1), -1)
        expect = np.where(last < 0, 0, np.where(last == 239, -1, last + 1))
        np.testing.assert_array_equal(expect, sm.recovery_day.values)
        assert (sm.output_lost_days.values > 0).any() and (expect > 0).any()

    def compare_agrees():
        text = run(binary, ["compare", out1, "--by", "tau", "--csv"])
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows, "no rows"
        assert "total_shortage_mean" not in rows[0]
        for r in rows:
            ci = list(sm.country.values).index(r["country"])
            mi = list(sm.material.values).index(r["material"])
            sel = sm.tau.values == int(r["tau"])
            for name, col in [("output_lost_days", "output_lost_days"),
                              ("shortage_days", "shortage_days"),
                              ("unmet_final_demand_days", "unmet_final_demand_days")]:
                vals = sm[name].isel(country=ci, material=mi).values[sel]
                assert int(r["runs"]) == len(vals) == 12
                np.testing.assert_allclose(float(r[col + "_mean"]), vals.mean(), rtol=1e-12,
                                           atol=1e-15)
                np.testing.assert_allclose(float(r[col + "_max"]), vals.max(), rtol=1e-12)
            rec = sm.recovery_day.isel(country=ci, material=mi).values[sel]
            assert int(r["recovery_day_n"]) == (rec > 0).sum()
            assert int(r["undisturbed"]) == (rec == 0).sum()
            assert int(r["not_recovered"]) == (rec == -1).sum()
        table = run(binary, ["compare", out1, "--by", "license_share"])
        assert "gallium" in table and "JPN" in table and "output lost" in table
        assert "backlog" not in table

    def chunked_series_match_run_alone():
        # The default world over a year, daily: each run's series spans three HDF5 chunks of
        # 130 days, the last one partly past the end (the sweep compresses chunks itself, in
        # parallel, and writes them directly; the padding must be the NaN fill value).
        edge = os.path.join(tmp, "edge.yaml")
        with open(edge, "w", encoding="utf-8") as f:
            f.write("name: edge\nbase: " + os.path.join(src, "scenarios", "graphite-2023.yaml")
                    + "\naxes:\n  events[0].license_share: [0.0, 0.2]\n"
                    + "record: {level: country_material, every: 1}\n")
        out3 = os.path.join(tmp, "edge.h5")
        run(binary, ["sweep", edge, "--out", out3, "--threads", "2", "--quiet"])
        scen = os.path.join(tmp, "edge1.yaml")
        with open(scen, "w", encoding="utf-8") as f:
            f.write(run(binary, ["sweep", edge, "--print-scenario", "1"]))
        alone3 = os.path.join(tmp, "edge1.h5")
        run(binary, ["run", scen, "--out", alone3, "--quiet", "--threads", "1"])
        with h5py.File(out3, "r") as sw, h5py.File(alone3, "r") as f:
            g = sw["country_material"]
            days, chunk_days = g["shortage"].shape[1], g["shortage"].chunks[1]
            assert days > 2 * chunk_days and days % chunk_days != 0, (days, chunk_days)
            for v in series:
                a, b = g[v][1], f["country_material"][v][()]
                assert a.shape == b.shape, (v, a.shape, b.shape)
                assert a.tobytes() == b.tobytes(), v  # bit for bit, NaN included
            for n in f["summary"]:
                if n not in ("country", "material"):
                    assert f["summary"][n][()].tobytes() == sw["summary"][n][1].tobytes(), n

    def threads_identical():
        for g in ("country_material", "summary"):
            with xr.open_dataset(out1, engine="h5netcdf", group=g) as a, \
                    xr.open_dataset(out2, engine="h5netcdf", group=g) as b:
                xr.testing.assert_identical(a, b)
        with open(out1, "rb") as a, open(out2, "rb") as b:
            assert a.read() == b.read(), "files differ"

    check("layout: dimensions, coordinates, attributes", layout)
    check("select runs by an axis value", select_by_value)
    check("run k equals the scenario run alone (series and summary, bit for bit)",
          run_alone_matches)
    check("the same xarray code reads a run's and a sweep's summary",
          same_code_opens_run_and_sweep_summary)
    check("metrics follow from the daily series", metrics_follow_from_series)
    check("shortfall compare agrees with xarray", compare_agrees)
    check("threads 1 and 2 identical", threads_identical)
    check("series over several chunks (an edge chunk) equal the run alone", chunked_series_match_run_alone)
    ds.close()
    sm.close()
    rc = CHECKS.summary()
    if rc == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
