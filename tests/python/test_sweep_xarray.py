#!/usr/bin/env python3
"""Sweep output read back with xarray (engine h5netcdf) and h5py.

Usage: test_sweep_xarray.py <shortfall binary> <source dir>

Runs scenarios/sweeps/example-license-share.yaml and checks: the named dimensions (run, day,
country, material) and the per-run coordinates (one per axis, replicate, seed, point); that
`ds.set_xindex("tau").sel(tau=6)` and `ds.set_index(run=[...]).unstack("run")` give what README
"Sweeps" says; that the series of a run equal `shortfall run` on the run's scenario
(--print-scenario); that metrics follow from the daily shortage; that `shortfall compare --csv`
agrees with xarray's own group means; and --threads 1 vs 2 identical datasets.
Prints "N passed, M failed".
"""
import csv
import io
import os
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
    ds = xr.open_dataset(out1, engine="h5netcdf")

    def layout():
        assert dict(ds.sizes) == {"run": 36, "day": 240, "country": 4, "material": 4}, ds.sizes
        for c in ["license_share", "tau", "replicate", "seed", "point"]:
            assert c in ds.coords, c
            assert ds[c].dims == ("run",), (c, ds[c].dims)
        assert ds.license_share.dtype == np.float64
        assert ds.tau.dtype == np.int64
        assert ds.license_share.attrs["key_path"] == "events[CHN gallium licensing].license_share"
        assert ds.shortage.dims == ("run", "day", "country", "material")
        assert ds.total_shortage.dims == ("run", "country", "material")
        assert ds.days_in_shortage.dtype == np.int32  # not decoded as a timedelta
        assert list(ds.country.values) == ["CHN", "JPN", "USA", "DEU"]
        assert ds.attrs["axes"] == "license_share tau"
        assert "axes:" in ds.attrs["sweep"] and "export_control" in ds.attrs["base_scenario"]
        # grid order: first axis slowest, replicates fastest
        assert list(ds.replicate.values[:4]) == [0, 1, 0, 1]
        assert list(ds.tau.values[:6]) == [3, 3, 6, 6, 12, 12]
        assert list(ds.seed.values[:2]) == [1, 2]
        np.testing.assert_allclose(ds.license_share.values[::6], [0, 0.1, 0.2, 0.3, 0.4, 0.5])

    def select_by_value():
        sel = ds.set_xindex("tau").sel(tau=6)
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

    def run_alone_matches():
        k = 23  # license_share 0.3, tau 12, replicate 1
        text = run(binary, ["sweep", sweep, "--print-scenario", str(k)])
        assert text.startswith("# run 23 of sweep example-license-share")
        scen = os.path.join(tmp, "run23.yaml")  # the world path in it is absolute
        with open(scen, "w", encoding="utf-8") as f:
            f.write(text)
        alone = os.path.join(tmp, "alone.h5")
        run(binary, ["run", scen, "--out", alone, "--quiet", "--threads", "2"])
        with h5py.File(alone, "r") as f:
            cm = f["country_material"]
            for v in ["production", "shortage", "unmet_final_demand", "inventory_days"]:
                np.testing.assert_array_equal(cm[v][()], ds[v].isel(run=k).values, err_msg=v)
            assert int(f.attrs["seed"]) == int(ds.seed[k]) == 2

    def metrics_follow_from_series():
        use = ds.baseline_use.values  # (country, material)
        s = ds.shortage.values  # (run, day, country, material), every day recorded
        threshold = float(ds.attrs["shortage_threshold"])
        assert threshold == 1e-3
        short = (s > threshold * use) & (use > 0)
        np.testing.assert_array_equal(short.sum(axis=1), ds.days_in_shortage.values)
        np.testing.assert_allclose(s.sum(axis=1), ds.total_shortage.values, rtol=1e-12, atol=0)
        np.testing.assert_array_equal(s.max(axis=1), ds.peak_shortage.values)
        last = np.where(short.any(axis=1), 239 - np.argmax(short[:, ::-1], axis=1), -1)
        expect = np.where(last < 0, -1, np.where(last == 239, -2, last + 1))
        np.testing.assert_array_equal(expect, ds.recovery_day.values)

    def compare_agrees():
        text = run(binary, ["compare", out1, "--by", "tau", "--csv"])
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows, "no rows"
        for r in rows:
            ci = list(ds.country.values).index(r["country"])
            mi = list(ds.material.values).index(r["material"])
            vals = ds.total_shortage.isel(country=ci, material=mi).values[ds.tau.values == int(r["tau"])]
            assert int(r["runs"]) == len(vals) == 12
            np.testing.assert_allclose(float(r["total_shortage_mean"]), vals.mean(), rtol=1e-12)
            np.testing.assert_allclose(float(r["total_shortage_max"]), vals.max(), rtol=1e-12)
        table = run(binary, ["compare", out1, "--by", "license_share"])
        assert "gallium" in table and "JPN" in table

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
        alone = os.path.join(tmp, "edge1.h5")
        run(binary, ["run", scen, "--out", alone, "--quiet", "--threads", "1"])
        with h5py.File(out3, "r") as sw, h5py.File(alone, "r") as f:
            days, chunk_days = sw["shortage"].shape[1], sw["shortage"].chunks[1]
            assert days > 2 * chunk_days and days % chunk_days != 0, (days, chunk_days)
            for v in ["production", "shortage", "unmet_final_demand", "inventory_days"]:
                a, b = sw[v][1], f["country_material"][v][()]
                assert a.shape == b.shape, (v, a.shape, b.shape)
                assert a.tobytes() == b.tobytes(), v  # bit for bit, NaN included

    def threads_identical():
        with xr.open_dataset(out2, engine="h5netcdf") as ds2:
            xr.testing.assert_identical(ds, ds2)
        with open(out1, "rb") as a, open(out2, "rb") as b:
            assert a.read() == b.read(), "files differ"

    check("layout: dimensions, coordinates, attributes", layout)
    check("select runs by an axis value", select_by_value)
    check("run k equals the scenario run alone", run_alone_matches)
    check("metrics follow from the daily series", metrics_follow_from_series)
    check("shortfall compare agrees with xarray", compare_agrees)
    check("threads 1 and 2 identical", threads_identical)
    check("series over several chunks (an edge chunk) equal the run alone", chunked_series_match_run_alone)
    ds.close()
    return CHECKS.summary()


if __name__ == "__main__":
    sys.exit(main())
