"""The Python API (docs/python.md), with pytest: PYTHONPATH=build/python /usr/bin/python3 -m pytest
tests/python/api (ctest runs it as py_api). SHORTFALL_CLI names the program (default
build/shortfall); the working directory does not matter."""
import json
import os
import signal
import subprocess
import threading
import time

import h5py
import numpy as np
import pandas as pd
import pytest

import shortfall as sf

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CLI = os.environ.get("SHORTFALL_CLI", os.path.join(ROOT, "build", "shortfall"))
CUT = os.path.join(ROOT, "scenarios", "example-gallium-cut.yaml")
BASELINE = os.path.join(ROOT, "scenarios", "example-baseline.yaml")


def cli(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True)


def datasets(path):
    """Every dataset of an HDF5 file by path, and every attribute, as numpy values."""
    out = {}
    with h5py.File(path, "r") as f:
        for k, v in f.attrs.items():
            out["@" + k] = np.asarray(v)

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
                for k, v in obj.attrs.items():
                    if k not in ("DIMENSION_LIST", "REFERENCE_LIST"):  # object references
                        out[name + "@" + k] = np.asarray(v)
        f.visititems(visit)
    return out


def assert_same_file(a, b, skip=()):
    da, db = datasets(a), datasets(b)
    assert sorted(set(da) - set(skip)) == sorted(set(db) - set(skip))
    for k in da:
        if k in skip:
            continue
        x, y = da[k], db[k]
        assert x.dtype == y.dtype, k
        assert x.shape == y.shape, k
        if x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True), k  # bit for bit (NaN where NaN)
        else:
            assert np.array_equal(x, y), k
    return da


@pytest.fixture(scope="module")
def cli_cut(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("cli") / "cut.h5")
    p = cli("run", CUT, "--out", out, "--quiet")
    assert p.returncode == 0, p.stderr
    return out


# ---- a run equals the CLI's -------------------------------------------------------------------

def test_run_to_file_equals_cli(cli_cut, tmp_path):
    out = tmp_path / "py.h5"
    r = sf.run(CUT, out=out)
    assert r.path == str(out)
    assert_same_file(cli_cut, out)


def test_run_in_memory_equals_cli_and_leaves_no_file(cli_cut, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    world = sf.World.load(os.path.join(ROOT, "scenarios", "worlds", "example.yaml"))
    r = sf.run(sf.Scenario.load(CUT), world=world)
    assert r.path is None
    assert os.listdir(tmp_path) == []  # the temporary file was deleted
    with h5py.File(cli_cut, "r") as f:
        assert sorted(r.groups) == sorted(k for k in f if isinstance(f[k], h5py.Group))
        assert r.attrs["world_sha256"] == world.sha256
        for g, ds in r.groups.items():
            for name, var in ds.variables.items():
                ref = f[g][name][()]
                got = var.values
                if ref.dtype.kind in "SO":  # text: compare as str
                    ref = np.array([v.decode() if isinstance(v, bytes) else v
                                    for v in ref.ravel()]).reshape(ref.shape)
                    got = got.astype(str)
                    assert np.array_equal(ref, got), (g, name)
                else:
                    assert np.array_equal(ref, got, equal_nan=ref.dtype.kind == "f"), (g, name)
    cm = r.country_material
    assert list(cm["country"].values) == world.countries
    assert list(cm["material"].values) == world.materials
    assert cm["output_lost"].dims == ("day", "country", "material")
    assert list(r.firm["firm"].values) == world.firms


def test_world_override(cli_cut, tmp_path):
    """sf.run(scen, world=...) runs on the given world: a world file that does not exist in
    the scenario is never read."""
    d = json.loads(json.dumps({"name": "x", "world": "does-not-exist.yaml", "days": 30}))
    world = sf.World.load(os.path.join(ROOT, "scenarios", "worlds", "example.yaml"))
    r = sf.run(d, world=world)
    assert r.attrs["days"] == 30
    with pytest.raises(sf.InputError) as e:
        sf.run(d)
    assert e.value.key == "world"


# ---- numpy views ------------------------------------------------------------------------------

def test_views_are_views_and_stay_valid(cli_cut):
    sim = sf.Simulation(None, CUT)
    assert sim.day == -1
    sim.step()
    a, b = sim.production, sim.production
    assert np.shares_memory(a, b)
    assert not a.flags.owndata and not a.flags.writeable
    with pytest.raises(ValueError):
        a[0] = 1.0
    n = len(sim.world.firms)
    for name in ("production", "demand", "capacity", "capacity_loss", "final_demand",
                 "final_delivered", "input_shortfall", "binding", "first_shortage_day",
                 "overproduction", "final_demand_wanted"):
        v = getattr(sim, name)
        assert v.shape == (n,) and not v.flags.owndata and not v.flags.writeable, name
    # The views follow the engine day by day, without re-reading: equal to the CLI's firm series.
    with h5py.File(cli_cut, "r") as f:
        prod, demand = f["firm/production"][()], f["firm/demand"][()]
        days = list(f["firm/day"][()]) if "day" in f["firm"] else list(f["country_material/day"][()])
    d = sim.production, sim.demand
    first = d[0].copy()
    changed = False
    for day in sim.days():
        if day in days:
            k = days.index(day)
            assert np.array_equal(d[0], prod[k]) and np.array_equal(d[1], demand[k]), day
        changed |= not np.array_equal(d[0], first)
    assert changed  # the export control changed production, seen through the same array
    assert sim.day == sim.total_days - 1
    last = d[0].copy()
    del sim, a, b
    import gc
    gc.collect()
    assert np.array_equal(d[0], last)  # the views keep the simulation alive


def test_baseline_production_is_baseline_output():
    """Undisturbed, every firm makes its baseline output x0 (model section 3: the baseline is
    a steady state), read through the view."""
    sim = sf.Simulation(None, BASELINE, days=5)
    for _ in sim.days():
        np.testing.assert_allclose(sim.production, sim.world.baseline_output, rtol=1e-12)
    cm = sim.country_material()
    assert float(cm["output_lost"].max()) < 1e-9 * float(sim.world.baseline_output.max())
    assert sim.inventory_days().dims == ("country", "material")


# ---- errors -----------------------------------------------------------------------------------

def test_input_error_has_location_and_cli_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("world: worlds/example.yaml\ndays: -5\n")
    with pytest.raises(sf.InputError) as e:
        sf.Scenario.load(str(bad))
    err = e.value
    assert isinstance(err, sf.Error) and isinstance(err, ValueError)
    assert (err.file, err.line, err.key) == (str(bad), 2, "days")
    assert err.column == 7  # "days: -5": the value starts in column 7
    p = cli("validate", str(bad))
    assert p.returncode == 2
    assert p.stderr == f"error: {err}\n"
    assert str(err).endswith(err.detail)


def test_io_error_and_internal_error_classes(tmp_path):
    # A scenario file that cannot be read: IoError (the command line's exit code 3).
    missing = str(tmp_path / "missing.yaml")
    with pytest.raises(sf.IoError) as e:
        sf.Scenario.load(missing)
    assert isinstance(e.value, OSError)
    p = cli("validate", missing)
    assert p.returncode == 3 and p.stderr == f"error: {e.value}\n"
    # An out path that cannot be written is refused before the run, as `run --out` refuses it
    # (bad input, exit code 2): InputError at key "out", and nothing written.
    (tmp_path / "a-file").write_text("")
    with pytest.raises(sf.InputError) as e:
        sf.run(CUT, out=tmp_path / "a-file" / "x.h5")
    assert e.value.file == "out" and "is a file, not a directory" in str(e.value)
    p = cli("run", CUT, "--quiet", "--out", str(tmp_path / "a-file" / "x.h5"))
    assert p.returncode == 2 and p.stderr == f"error: --out: {e.value.detail}\n"
    assert str(e.value) == f"out: {e.value.detail}"
    # Each of the library's exceptions reaches Python as its own class.
    with pytest.raises(sf.IoError, match="cannot write f.h5") as e:
        sf._shortfall._throw_for_test("io")
    assert isinstance(e.value, OSError)
    with pytest.raises(sf.InternalError, match="not finite") as e:
        sf._shortfall._throw_for_test("internal")
    assert isinstance(e.value, RuntimeError)
    with pytest.raises(sf.InputError) as e:
        sf._shortfall._throw_for_test("input")
    assert (e.value.file, e.value.line, e.value.column, e.value.key, e.value.detail) == \
        ("f.yaml", 3, 7, "events[0].loss", "a message")
    with pytest.raises(KeyboardInterrupt):
        sf._shortfall._throw_for_test("interrupted")


def test_ctrl_c_stops_a_run_and_leaves_no_file(tmp_path):
    out = tmp_path / "long.h5"
    # A long run (the shipped critical-materials world, 100 years), interrupted after 1 s.
    sc = sf.Scenario.load(os.path.join(ROOT, "scenarios", "graphite-2023.yaml"))
    world = sc.load_world()
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    t0 = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        sf.run(sc, world=world, out=out, days=36500, threads=1)
    timer.join()
    assert time.monotonic() - t0 < 20  # stopped, not run to the end
    assert os.listdir(tmp_path) == []  # no output, no temporary file


def test_runs_release_the_gil():
    """Another Python thread goes on while a run works (it would stall if the GIL were held)."""
    sc = sf.Scenario.load(os.path.join(ROOT, "scenarios", "graphite-2023.yaml"))
    world = sc.load_world()
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    t = threading.Thread(target=tick)
    t.start()
    t0 = time.monotonic()
    sf.run(sc, world=world, days=150, threads=1)
    t1 = time.monotonic()
    stop.set()
    t.join()
    during = [x for x in ticks if t0 < x < t1]
    # Ticks every 10 ms: with the GIL held there would be none (the switch interval is 5 ms,
    # but a thread blocked in C++ never gives it up); at least a third of them must come.
    assert t1 - t0 > 0.2
    assert len(during) >= (t1 - t0) / 0.01 / 3, (len(during), t1 - t0)


def test_scenario_warnings_are_python_warnings():
    """What `run` prints as `warning:` (here: an event that starts after the last day) is a
    ShortfallWarning, and kept in result.warnings."""
    d = dict(SCENARIO, days=10)
    d["events"] = [dict(SCENARIO["events"][0], start=50, end=60)]
    with pytest.warns(sf.ShortfallWarning, match="starts on day 50") as ws:
        r = sf.run(d)
    assert [str(w.message) for w in ws] == r.warnings and len(r.warnings) == 1


# ---- from_tables and from_dict ----------------------------------------------------------------

COUNTRIES = pd.DataFrame({"code": ["CHN", "JPN", "USA"], "name": ["China", "Japan", None],
                          "groups": ["", "ipef", "ipef"]})
MATERIALS = pd.DataFrame({"id": ["ga", "chip"], "unit": ["t", "unit"],
                          "inventory_days": [30.0, np.nan]})
FIRMS = pd.DataFrame({"id": ["ga1", "ga2", "c1", "c2"], "country": ["CHN", "CHN", "JPN", "USA"],
                      "material": ["ga", "ga", "chip", "chip"],
                      "final_demand": [0.1, 0.0, 5.0, 3.0], "inventory_days": [np.nan] * 3 + [20]},
                     index=["r0", "r1", "r2", "r3"])
LINKS = pd.DataFrame({"supplier": ["ga1", "ga2", "ga1"], "buyer": ["c1", "c2", "c2"],
                      "flow": [0.3, 0.2, 0.1], "lead_time": [14, np.nan, 10]})
WORLD_YAML = """countries:
  - {code: CHN, name: China}
  - {code: JPN, name: Japan, groups: [ipef]}
  - {code: USA, groups: [ipef]}
materials:
  - {id: ga, unit: t, inventory_days: 30}
  - {id: chip, unit: unit}
firms_csv: firms.csv
links_csv: links.csv
"""
FIRMS_CSV = ("id,country,material,final_demand,inventory_days\nga1,CHN,ga,0.1,\nga2,CHN,ga,0,\n"
             "c1,JPN,chip,5,\nc2,USA,chip,3,20\n")
LINKS_CSV = "supplier,buyer,flow,lead_time\nga1,c1,0.3,14\nga2,c2,0.2,\nga1,c2,0.1,10\n"


def write_world(d):
    (d / "world.yaml").write_text(WORLD_YAML)
    (d / "firms.csv").write_text(FIRMS_CSV)
    (d / "links.csv").write_text(LINKS_CSV)
    return str(d / "world.yaml")


def test_from_tables_equals_load(tmp_path):
    loaded = sf.World.load(write_world(tmp_path))
    built = sf.World.from_tables(countries=COUNTRIES, materials=MATERIALS, firms=FIRMS,
                                 links=LINKS)
    assert built.sha256 == loaded.sha256  # the hash of the canonical content
    assert built.source == "<tables>"
    assert (built.countries, built.materials, built.firms) == \
        (loaded.countries, loaded.materials, loaded.firms)
    for a in ("baseline_output", "link_flow", "link_supplier", "link_buyer", "firm_country"):
        assert np.array_equal(getattr(built, a), getattr(loaded, a)), a
    sc = {"name": "t", "world": "unused.yaml", "days": 40,
          "events": [{"type": "capacity_loss", "start": 2, "end": 20, "country": "CHN",
                      "loss": 0.5}]}
    a = sf.run(sc, world=built, out=tmp_path / "a.h5")
    b = sf.run(sc, world=loaded, out=tmp_path / "b.h5")
    assert_same_file(a.path, b.path)


def test_from_tables_errors_name_table_row_column():
    links = LINKS.copy()
    links.index = ["first", "second", "third"]
    links.loc["second", "flow"] = -1.0
    with pytest.raises(sf.InputError) as e:
        sf.World.from_tables(countries=COUNTRIES, materials=MATERIALS, firms=FIRMS, links=links)
    err = e.value
    assert (err.table, err.row, err.column_name) == ("links", "second", "flow")
    assert str(err).startswith("links table, row 'second', column 'flow': ")
    assert "expected a flow > 0" in err.detail
    firms = FIRMS.copy()
    firms.loc["r2", "country"] = "XXX"
    with pytest.raises(sf.InputError) as e:
        sf.World.from_tables(countries=COUNTRIES, materials=MATERIALS, firms=firms, links=LINKS)
    assert (e.value.table, e.value.row, e.value.column_name) == ("firms", "r2", "country")
    assert "unknown country 'XXX'" in str(e.value)
    countries = pd.concat([COUNTRIES, pd.DataFrame({"code": ["JPN"]})], ignore_index=True)
    with pytest.raises(sf.InputError) as e:
        sf.World.from_tables(countries=countries, materials=MATERIALS, firms=FIRMS, links=LINKS)
    assert (e.value.table, e.value.row, e.value.column_name) == ("countries", 3, "code")
    assert "duplicate country code 'JPN'" in str(e.value)


SCENARIO = {"name": "dict-test", "world": os.path.join(ROOT, "scenarios", "worlds", "example.yaml"),
            "days": 60, "seed": 3, "model": {"tau": 6.5, "rationing": "proportional"},
            "events": [{"type": "export_control", "start": 0, "end": 40, "exporters": ["CHN"],
                        "materials": ["gallium"], "targets": ["ipef"],
                        "license_share": np.float64(0.2), "name": "cut"}]}


def test_from_dict_equals_load(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps(SCENARIO, default=float))  # JSON is YAML
    a = sf.run(sf.Scenario.load(str(path)), out=tmp_path / "a.h5")
    b = sf.run(sf.Scenario.from_dict(SCENARIO), out=tmp_path / "b.h5")
    c = sf.run(SCENARIO, out=tmp_path / "c.h5")  # a dict given to run
    assert sf.Scenario(SCENARIO).text == sf.Scenario.from_dict(SCENARIO).text
    assert sf.Scenario.from_dict(SCENARIO).name == "dict-test"
    assert_same_file(b.path, c.path)
    # The same run; only the stored scenario text differs (re-written from the dict).
    assert_same_file(a.path, b.path, skip=("@scenario",))


def test_from_dict_errors_equal_the_files(tmp_path):
    bad = json.loads(json.dumps(SCENARIO, default=float))
    bad["events"][0]["license_share"] = 1.5
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(bad))
    with pytest.raises(sf.InputError) as from_file:
        sf.Scenario.load(str(path))
    with pytest.raises(sf.InputError) as from_dict:
        sf.Scenario.from_dict(bad)
    assert from_dict.value.key == from_file.value.key == "events[0].license_share"
    assert from_dict.value.detail == from_file.value.detail
    assert from_dict.value.file == "<dict>"
    with pytest.raises(TypeError, match="events"):
        sf.Scenario.from_dict({"events": [object()]})


# ---- sweeps -----------------------------------------------------------------------------------

def test_sweep_equals_cli(tmp_path):
    spec = os.path.join(ROOT, "scenarios", "sweeps", "example-license-share.yaml")
    ref = tmp_path / "cli.h5"
    p = cli("sweep", spec, "--out", str(ref), "--threads", "2")
    assert p.returncode == 0, p.stderr
    r = sf.sweep(spec, out=tmp_path / "py.h5", threads=2)
    assert_same_file(ref, r.path)
    cm = sf.sweep(spec, threads=2).country_material
    with h5py.File(ref, "r") as f:
        assert np.array_equal(cm["shortage"].values, f["country_material/shortage"][()],
                              equal_nan=True)
