"""shortfall's Python API (docs/python.md).

    import shortfall as sf
    world = sf.World.load("scenarios/worlds/critical-materials.yaml")
    result = sf.run("scenarios/graphite-2023.yaml", world=world)
    result.country_material["output_lost"].sel(country="KOR", material="graphite").plot()

Everything runs through the engine's own code (the extension module `_shortfall`): the same
parsers, the same simulation and the same HDF5 recorder as `shortfall run`, so results are the
same bits as the command line's. Runs release the GIL and stop on Ctrl-C (KeyboardInterrupt,
no file left behind).
"""
import csv as _csv
import os as _os
import re as _re
import shutil as _shutil
import tempfile as _tempfile
import warnings as _warnings

from . import _shortfall
from ._shortfall import Error, InputError, InternalError, IoError, Scenario  # noqa: F401

__version__ = _shortfall.version
__all__ = ["Error", "InputError", "IoError", "InternalError", "ShortfallWarning", "World",
           "Scenario", "Simulation", "Result", "run", "sweep", "open_result"]


class ShortfallWarning(UserWarning):
    """A setting that will do nothing (what `shortfall run` prints as `warning:`)."""


def _warn(messages):
    for m in messages:
        _warnings.warn(m, ShortfallWarning, stacklevel=3)


def _as_scenario(scenario):
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, (str, _os.PathLike)):
        return Scenario.load(_os.fspath(scenario))
    if isinstance(scenario, dict):
        return Scenario.from_dict(scenario)
    raise TypeError("expected a shortfall.Scenario, a scenario file's path or a dict, found "
                    + type(scenario).__name__)


# ---- World --------------------------------------------------------------------------------------

World = _shortfall.World


def _from_tables(countries, materials, firms, links=None, final_demand_split=None,
                 lead_times=None, name=None):
    """A world from tables (pandas DataFrames, or lists of dicts), checked as World.load
    checks a world file.

    countries: columns code, and optionally name, groups (a list, or text separated by
    spaces, commas or semicolons). materials: id, and optionally name, unit, tier,
    inventory_days, requalification_days, utilisation, unit_value. firms: the columns of
    firms.csv (id, country, material, final_demand[, inventory_days]); links: those of
    links.csv (supplier, buyer, flow[, lead_time]); final_demand_split: firm, country,
    amount. lead_times: a dict like the world file's (domestic, default, pairs). Missing
    values (NaN, None) mean "not given". Errors (InputError) name the table, the row (its
    index label) and the column.
    """
    tmp = _tempfile.mkdtemp(prefix="shortfall-world-")
    try:
        files = {}
        doc = {}
        if name is not None:
            doc["name"] = str(name)
        doc["countries"] = _records(countries, "countries", lists=("groups",))
        doc["materials"] = _records(materials, "materials")
        if lead_times:
            doc["lead_times"] = lead_times
        for table, frame, key in (("firms", firms, "firms_csv"), ("links", links, "links_csv"),
                                  ("final_demand_split", final_demand_split,
                                   "final_demand_split")):
            if frame is None:
                continue
            path = _os.path.join(tmp, table + ".csv")
            files[path] = (table, _write_csv(frame, path))
            doc[key] = table + ".csv"
        world_yaml = _os.path.join(tmp, "world.yaml")
        with open(world_yaml, "w", encoding="utf-8") as f:
            f.write(Scenario._dict_to_yaml(doc))
        try:
            return World._load_named(world_yaml, "<tables>")
        except InputError as e:
            raise _table_error(e, world_yaml, files) from None
    finally:
        _shutil.rmtree(tmp, ignore_errors=True)


World.from_tables = staticmethod(_from_tables)


def _records(table, what, lists=()):
    """Rows of a DataFrame (or a list of dicts) as dicts without the missing values."""
    rows = table.to_dict("records") if hasattr(table, "to_dict") else list(table)
    out = []
    for row in rows:
        d = {}
        for k, v in row.items():
            if v is None or (isinstance(v, float) and v != v):
                continue
            if k in lists and isinstance(v, str):
                v = [g for g in _re.split(r"[\s,;]+", v) if g]
            elif hasattr(v, "tolist") and not isinstance(v, str):
                v = v.tolist()
            d[str(k)] = v
        out.append(d)
    return out


def _write_csv(frame, path):
    """Write a table as the world's CSV; returns its row labels (line k + 2 is row labels[k])."""
    import pandas as pd
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(list(frame))
    # Text quoted (a value starting with '#' would otherwise read as a comment line), numbers
    # with 17 significant digits (the same doubles back), missing values empty ("not given").
    frame.to_csv(path, index=False, float_format="%.17g", na_rep="",
                 quoting=_csv.QUOTE_NONNUMERIC)
    return list(frame.index)


def _table_error(e, world_yaml, files):
    """The engine's error on the temporary files, told in terms of the tables."""
    key = e.key or ""
    if e.file in files:
        table, labels = files[e.file]
        row = labels[e.line - 2] if e.line and 2 <= e.line < len(labels) + 2 else None
        column = key[len("column '"):-1] if key.startswith("column '") else None
        where = f"{table} table" + (f", row {row!r}" if row is not None else "") + \
                (f", column '{column}'" if column else "")
    elif e.file == world_yaml:
        m = _re.match(r"(countries|materials)\[(\d+)\](?:\.(\w+))?", key)
        table, row, column = (m.group(1), int(m.group(2)), m.group(3)) if m else (None, None, None)
        where = (f"{table} table, row {row}" + (f", column '{column}'" if column else "")
                 if m else (key or "the tables"))
    else:
        return e
    err = InputError(f"{where}: {e.detail}")
    err.file, err.line, err.column, err.key, err.detail = None, None, None, key or None, e.detail
    err.table, err.row, err.column_name = (table, row, column)
    return err


# ---- results ------------------------------------------------------------------------------------

def _attr(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if hasattr(v, "tolist"):
        v = v.tolist()
    return v


class Result:
    """The groups of a run's (or a sweep's) HDF5 file as xarray Datasets, in memory.

    result.country_material, result.summary, result.firm, result.events (those the file has;
    README "Output"), result.attrs (the file's root attributes), result.groups (all, by name),
    result.path (the file, when it was kept with out=; else None), result.warnings.
    """

    def __init__(self, path, keep=True, warnings=()):
        import h5py
        import xarray as xr
        with h5py.File(path, "r") as f:
            names = [k for k in f if isinstance(f[k], h5py.Group)]
            self.attrs = {k: _attr(v) for k, v in f.attrs.items()}
        self.groups = {}
        for g in names:
            with xr.open_dataset(path, group=g, engine="h5netcdf") as ds:
                self.groups[g] = ds.load()
        self.path = path if keep else None
        self.warnings = list(warnings)

    def __getattr__(self, name):
        groups = self.__dict__.get("groups", {})
        if name in groups:
            return groups[name]
        raise AttributeError(f"this result has no group {name!r} (it has {sorted(groups)})")

    def __getitem__(self, group):
        return self.groups[group]

    def __dir__(self):
        return list(super().__dir__()) + list(self.groups)

    def __repr__(self):
        name = self.attrs.get("scenario_name", self.attrs.get("name", ""))
        return f"<shortfall.Result {name}: groups {sorted(self.groups)}>"


def open_result(path):
    """A run's or a sweep's HDF5 file (written by `shortfall run`/`sweep`) as a Result."""
    return Result(_os.fspath(path), keep=True)


def _output(out, stem, work):
    """Call work(path) on `out`, or on a temporary file that is read and then deleted."""
    if out is not None:
        out = _os.fspath(out)
        return Result(out, keep=True, warnings=work(out))
    tmp = _tempfile.mkdtemp(prefix="shortfall-")
    try:
        path = _os.path.join(tmp, (stem or "run") + ".h5")
        warnings = work(path)
        return Result(path, keep=False, warnings=warnings)
    finally:
        _shutil.rmtree(tmp, ignore_errors=True)


def run(scenario, world=None, out=None, threads=0, days=0):
    """Run a scenario (a Scenario, a path or a dict) and return its Result.

    world: a World to run on instead of the one the scenario names. out: keep the HDF5 file
    there (else it is written to a temporary file, read into memory and deleted). threads,
    days: as `shortfall run --threads/--days` (0: the default / the scenario's). The run
    releases the GIL; Ctrl-C stops it (KeyboardInterrupt) and leaves no file.
    """
    sc = _as_scenario(scenario)
    w = sc.load_world() if world is None else world

    def work(path):
        warnings = _shortfall.run_to_file(sc, w, path, threads, days)
        _warn(warnings)
        return warnings

    stem = _os.path.splitext(_os.path.basename(sc.path))[0] if sc.path else sc.name
    return _output(out, _re.sub(r"[^\w.-]", "_", stem), work)


def sweep(path, out=None, threads=0, resume=False, restart=False):
    """Run a sweep file (README "Sweeps") and return its output as a Result (groups
    country_material and summary, with one `run` per point and replicate and the axes as
    coordinates). out, resume, restart: as `shortfall sweep --out/--resume/--restart`."""
    path = _os.fspath(path)

    def work(file):
        warnings = _shortfall.sweep_to_file(path, file, threads, resume, restart)
        _warn(warnings)
        return warnings

    return _output(out, _os.path.splitext(_os.path.basename(path))[0], work)


# ---- step by step -------------------------------------------------------------------------------

class Simulation(_shortfall.Simulation):
    """A simulation stepped from Python.

        sim = sf.Simulation(world, scenario)
        for day in sim.days():
            x = sim.production          # numpy, read-only, a view of the engine's memory

    The firm arrays (production, demand, capacity, capacity_loss, final_demand,
    final_delivered, input_shortfall, binding, first_shortage_day, overproduction,
    final_demand_wanted; index = the world's firm order, world.firms) view the engine's state:
    no copy, updated in place by each step, valid while the Simulation lives (they keep it
    alive). Each step releases the GIL.
    """

    def __init__(self, world, scenario, threads=0, days=0):
        sc = _as_scenario(scenario)
        w = sc.load_world() if world is None else world
        self.warnings = sc.check(w)
        _warn(self.warnings)
        super().__init__(w, sc, threads, days)

    def days(self):
        """Step through the remaining days, yielding each day's number after it is simulated."""
        while self.step():
            yield self.day

    def country_material(self):
        """Country x material totals of the last simulated day (an xarray Dataset; a copy)."""
        import xarray as xr
        coords = {"country": self.world.countries, "material": self.world.materials}
        return xr.Dataset({k: (("country", "material"), v)
                           for k, v in self._country_material().items()},
                          coords=coords, attrs={"day": self.day})

    def inventory_days(self, country=None, material=None):
        """Pooled stock over daily use by country and material (NaN where no firm uses it), for
        the last simulated day: a DataArray, or a number when both are given."""
        da = self.country_material()["inventory_days"]
        sel = {k: v for k, v in (("country", country), ("material", material)) if v is not None}
        da = da.sel(sel) if sel else da
        return float(da) if da.ndim == 0 else da

    def link_state(self):
        """Per link (the world's link order): stock, order, delivery, in_transit, lead_time
        after the last simulated day (numpy copies)."""
        return self._link_state()
