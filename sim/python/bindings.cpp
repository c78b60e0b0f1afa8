// The extension module `_shortfall` of the Python API (docs/python.md). The package
// `shortfall` (sim/python/shortfall/__init__.py) wraps it: what is here is the engine's own
// code (load_world, parse_scenario, Simulation, the HDF5 recorder, run_sweep) with the GIL
// released while it works, Ctrl-C turned into a clean stop, and the library's errors turned
// into the package's exception classes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "output/variables.hpp"
#include "shortfall/error.hpp"
#include "shortfall/hdf5_output.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/sweep.hpp"
#include "shortfall/version.hpp"
#include "shortfall/world.hpp"

namespace py = pybind11;
using namespace shortfall;

namespace {

// The package's exception classes (created here, kept for the life of the process).
PyObject* g_error = nullptr;           // shortfall.Error(Exception)
PyObject* g_input_error = nullptr;     // shortfall.InputError(Error, ValueError)
PyObject* g_io_error = nullptr;        // shortfall.IoError(Error, OSError)
PyObject* g_internal_error = nullptr;  // shortfall.InternalError(Error, RuntimeError)

PyObject* new_exception(py::module_& m, const char* name, py::tuple bases, const char* doc) {
  const std::string qualified = std::string("shortfall.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (!cls) throw py::error_already_set();
  m.add_object(name, py::handle(cls));  // add_object takes its own reference
  return cls;
}

/// Raise `cls(message)` with attributes set on the instance.
void raise_with(PyObject* cls, const std::string& message,
                const std::function<void(py::object&)>& set_attributes = {}) {
  py::object inst = py::reinterpret_borrow<py::object>(cls)(message);
  if (set_attributes) set_attributes(inst);
  PyErr_SetObject(cls, inst.ptr());
}

void translate(std::exception_ptr p) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const InputError& e) {
    raise_with(g_input_error, e.what(), [&](py::object& inst) {
      const SourceLocation& w = e.where();
      inst.attr("file") = w.file.empty() ? py::object(py::none()) : py::object(py::str(w.file));
      inst.attr("line") = w.line > 0 ? py::object(py::int_(w.line)) : py::object(py::none());
      inst.attr("column") = w.column > 0 ? py::object(py::int_(w.column)) : py::object(py::none());
      inst.attr("key") =
          w.key_path.empty() ? py::object(py::none()) : py::object(py::str(w.key_path));
      inst.attr("detail") = py::str(e.detail());
    });
  } catch (const IoError& e) {
    raise_with(g_io_error, e.what());
  } catch (const InternalError& e) {
    raise_with(g_internal_error, e.what());
  } catch (const Interrupted&) {
    PyErr_SetNone(PyExc_KeyboardInterrupt);
  }
}

// ---- Python values -> scenario YAML text (Scenario.from_dict) -------------------------------

void emit(YAML::Emitter& out, py::handle o, const std::string& path) {
  auto where = [&] { return path.empty() ? std::string("the top level") : path; };
  if (o.is_none()) {
    out << YAML::Null;
  } else if (py::isinstance<py::bool_>(o)) {
    out << (o.cast<bool>() ? "true" : "false");
  } else if (py::isinstance<py::int_>(o)) {
    out << py::str(o).cast<std::string>();
  } else if (py::isinstance<py::float_>(o)) {
    const double v = o.cast<double>();
    // Python's repr round-trips; YAML spells the non-finite values .inf and .nan.
    out << (std::isnan(v)   ? std::string(".nan")
            : std::isinf(v) ? std::string(v > 0 ? ".inf" : "-.inf")
                            : py::repr(o).cast<std::string>());
  } else if (py::isinstance<py::str>(o)) {
    out << YAML::DoubleQuoted << o.cast<std::string>();
  } else if (py::isinstance<py::dict>(o)) {
    out << YAML::BeginMap;
    for (auto [k, v] : o.cast<py::dict>()) {
      if (!py::isinstance<py::str>(k))
        throw py::type_error("Scenario.from_dict: expected text keys at " + where() + ", found " +
                             py::repr(k).cast<std::string>());
      const std::string key = k.cast<std::string>();
      out << YAML::Key << key << YAML::Value;
      emit(out, v, path.empty() ? key : path + "." + key);
    }
    out << YAML::EndMap;
  } else if (py::isinstance<py::list>(o) || py::isinstance<py::tuple>(o)) {
    out << YAML::BeginSeq;
    std::size_t k = 0;
    for (auto v : o) emit(out, v, path + "[" + std::to_string(k++) + "]");
    out << YAML::EndSeq;
  } else if (py::hasattr(o, "dtype") && py::hasattr(o, "item")) {  // numpy scalars
    emit(out, o.attr("item")(), path);
  } else {
    throw py::type_error(
        "Scenario.from_dict: expected a dict, list, text, number, bool or "
        "None at " +
        where() + ", found " + py::str(py::type::of(o).attr("__name__")).cast<std::string>());
  }
}

std::string dict_to_yaml(const py::dict& d) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, d, "");
  return std::string(out.c_str()) + "\n";
}

// ---- running in a worker thread, the main thread watching for Ctrl-C ------------------------

/// Run `work` on a thread of its own with the GIL released, while this thread checks Python's
/// signals every 50 ms: a KeyboardInterrupt (Ctrl-C, or any handler that raises) sets `cancel`,
/// the work stops before its next day (Interrupted: the recorder removes its temporary file),
/// and the Python exception is raised here once the worker has finished.
void run_interruptible(std::atomic<bool>& cancel, const std::function<void()>& work) {
  std::exception_ptr failure;
  std::optional<py::error_already_set> pending;
  {
    py::gil_scoped_release release;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::thread worker([&] {
      try {
        work();
      } catch (...) {
        failure = std::current_exception();
      }
      std::lock_guard lock(mu);
      done = true;
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) {
      if (pending) continue;
      lock.unlock();
      {
        py::gil_scoped_acquire acquire;
        if (PyErr_CheckSignals() != 0) {
          pending.emplace();  // fetches the exception (KeyboardInterrupt)
          cancel.store(true);
        }
      }
      lock.lock();
    }
    lock.unlock();
    worker.join();
  }
  if (pending) {
    // The Python exception wins over the worker's Interrupted.
    pending->restore();
    throw py::error_already_set();
  }
  if (failure) std::rethrow_exception(failure);
}

// ---- Python objects ---------------------------------------------------------------------------

/// A Simulation and what it reads, kept alive together.
struct PySimulation {
  std::shared_ptr<const World> world;
  std::shared_ptr<const Scenario> scenario;
  std::unique_ptr<Simulation> sim;
};

/// A read-only numpy array viewing `data` (no copy), keeping `owner` alive.
template <class T>
py::array view(std::span<const T> data, py::handle owner) {
  py::array_t<T> a({py::ssize_t(data.size())}, {py::ssize_t(sizeof(T))}, data.data(), owner);
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

template <class T>
py::array view(const std::vector<T>& data, py::handle owner) {
  return view(std::span<const T>(data), owner);
}

py::dict country_material_dict(const Simulation& sim) {
  const CountryMaterialDay cm = sim.country_material();
  const std::size_t nc = sim.world().countries().size(), nm = sim.world().materials().size();
  py::dict d;
  for (const auto& series : detail::kCmSeries) {  // the run file's series (output/variables.hpp)
    const std::vector<double>& v = cm.*series.field;
    py::array_t<double> a({py::ssize_t(nc), py::ssize_t(nm)});
    std::copy(v.begin(), v.end(), a.mutable_data());
    d[series.name] = a;
  }
  return d;
}

/// The package's exception classes, the translator from the library's errors, a test hook.
void bind_errors(py::module_& m) {
  g_error = new_exception(m, "Error", py::make_tuple(py::handle(PyExc_Exception)),
                          "Any error of shortfall.");
  g_input_error = new_exception(
      m, "InputError", py::make_tuple(py::handle(g_error), py::handle(PyExc_ValueError)),
      "Bad input (the command line's exit code 2). Attributes: file, line, column, key (None "
      "where unknown), detail (the message without its location); str() is the command "
      "line's message.");
  g_io_error =
      new_exception(m, "IoError", py::make_tuple(py::handle(g_error), py::handle(PyExc_OSError)),
                    "A file could not be read or written (the command line's exit code 3).");
  g_internal_error = new_exception(
      m, "InternalError", py::make_tuple(py::handle(g_error), py::handle(PyExc_RuntimeError)),
      "A broken invariant found while running (a bug; exit code 1).");
  py::register_exception_translator(&translate);

  // Test hook (tests/python/api): raise the library's exception `kind` from C++, to check how
  // each one reaches Python (InternalError cannot be caused by valid input).
  m.def("_throw_for_test", [](const std::string& kind) {
    if (kind == "input") throw InputError({"f.yaml", 3, 7, "events[0].loss"}, "a message");
    if (kind == "io") throw IoError("cannot write f.h5");
    if (kind == "internal") throw InternalError("a number is not finite");
    if (kind == "interrupted") throw Interrupted();
    throw std::runtime_error("unknown kind " + kind);
  });
}

/// shortfall.World: a loaded world, its ids and its arrays (views, not copies).
void bind_world(py::module_& m) {
  py::class_<World, std::shared_ptr<World>>(m, "World")
      .def_static(
          "load",
          [](const std::string& path) {
            py::gil_scoped_release release;
            return std::make_shared<World>(load_world(path));
          },
          py::arg("path"))
      .def_static(
          "_load_named",
          [](const std::string& path, const std::string& source) {
            py::gil_scoped_release release;
            // A World has no mutators: the same tables under another name, checked again.
            WorldTables tables = load_world(path).tables();
            tables.source = source;
            return std::make_shared<World>(std::move(tables));
          },
          py::arg("path"), py::arg("source"))
      .def_property_readonly("source", &World::source)
      .def_property_readonly("sha256", &World::sha256)
      .def_property_readonly("countries",
                             [](const World& w) {
                               std::vector<std::string> v;
                               for (const auto& c : w.countries()) v.push_back(c.code);
                               return v;
                             })
      .def_property_readonly("materials",
                             [](const World& w) {
                               std::vector<std::string> v;
                               for (const auto& p : w.materials()) v.push_back(p.id);
                               return v;
                             })
      .def_property_readonly("firms", [](const World& w) { return w.firm_id(); })
      .def_property_readonly("num_firms", &World::num_firms)
      .def_property_readonly("num_links", &World::num_links)
      .def_property_readonly(
          "firm_country",
          [](py::object self) { return view(self.cast<const World&>().firm_country(), self); })
      .def_property_readonly(
          "firm_material",
          [](py::object self) { return view(self.cast<const World&>().firm_material(), self); })
      .def_property_readonly(
          "baseline_output",
          [](py::object self) { return view(self.cast<const World&>().baseline_output(), self); })
      .def_property_readonly(
          "link_supplier",
          [](py::object self) { return view(self.cast<const World&>().link_supplier(), self); })
      .def_property_readonly(
          "link_buyer",
          [](py::object self) { return view(self.cast<const World&>().link_buyer(), self); })
      .def_property_readonly(
          "link_flow",
          [](py::object self) { return view(self.cast<const World&>().link_flow(), self); })
      .def("__repr__", [](const World& w) {
        return "<shortfall.World " + w.source() + ": " + std::to_string(w.countries().size()) +
               " countries, " + std::to_string(w.materials().size()) + " materials, " +
               std::to_string(w.num_firms()) + " firms, " + std::to_string(w.num_links()) +
               " links>";
      });
}

/// shortfall.Scenario: a parsed scenario, from a file, YAML text or a dict.
void bind_scenario(py::module_& m) {
  py::class_<Scenario, std::shared_ptr<Scenario>>(m, "Scenario")
      .def_static(
          "load",
          [](const std::string& path) { return std::make_shared<Scenario>(load_scenario(path)); },
          py::arg("path"))
      .def_static(
          "from_yaml",
          [](const std::string& text, const std::string& path) {
            return std::make_shared<Scenario>(parse_scenario(text, path));
          },
          py::arg("text"), py::arg("path") = "<text>")
      .def_static(
          "from_dict",
          [](const py::dict& d, const std::string& path) {
            return std::make_shared<Scenario>(parse_scenario(dict_to_yaml(d), path));
          },
          py::arg("d"), py::arg("path") = "<dict>")
      .def(py::init([](const py::dict& d, const std::string& path) {
             return std::make_shared<Scenario>(parse_scenario(dict_to_yaml(d), path));
           }),
           py::arg("d"), py::arg("path") = "<dict>", "The same as Scenario.from_dict.")
      .def_static("_dict_to_yaml", &dict_to_yaml)
      .def_readonly("name", &Scenario::name)
      .def_readonly("path", &Scenario::path)
      .def_readonly("text", &Scenario::text)
      .def_readonly("world_path", &Scenario::world_path)
      .def_readonly("days", &Scenario::days)
      .def_readonly("seed", &Scenario::seed)
      .def("load_world",
           [](const Scenario& sc) {
             py::gil_scoped_release release;
             return std::make_shared<World>(load_world(sc.world_path, sc.world_where));
           })
      .def("check", &check_scenario, py::arg("world"),
           "InputError where the scenario names what the world lacks; returns the warnings.")
      .def("__repr__", [](const Scenario& s) {
        return "<shortfall.Scenario " + s.name + " (" + (s.path.empty() ? "<text>" : s.path) +
               "): " + std::to_string(s.days) + " days>";
      });
}

/// run_to_file and sweep_to_file: a whole run, or a sweep, into an HDF5 file.
void bind_runs(py::module_& m) {
  m.def(
      "run_to_file",
      [](std::shared_ptr<const Scenario> sc, std::shared_ptr<const World> world,
         const std::string& out, int threads, int days) {
        if (threads < 0 || threads > 4096)
          throw InputError(
              {"threads", 0, 0, ""},
              "expected a number of threads in [0, 4096], found " + std::to_string(threads));
        if (days < 0 || days > 36500)
          throw InputError({"days", 0, 0, ""},
                           "expected a number of days in [1, 36500] (0: the scenario's), found " +
                               std::to_string(days));
        check_output_file(out, "out");  // InputError at "out", as --out
        std::vector<std::string> warnings = check_scenario(*sc, *world);
        std::atomic<bool> cancel{false};
        run_interruptible(cancel, [&] {
          RunOptions opt;
          opt.threads = threads;
          opt.days = days;
          opt.cancel = &cancel;
          Simulation sim(*world, *sc, opt);
          auto h5 = make_hdf5_recorder(out);
          sim.run(h5.get());
        });
        return warnings;
      },
      py::arg("scenario"), py::arg("world"), py::arg("out"), py::arg("threads") = 0,
      py::arg("days") = 0);

  m.def(
      "sweep_to_file",
      [](const std::string& path, const std::string& out, int threads, bool resume, bool restart) {
        check_output_file(out, "out");  // InputError at "out", as --out
        SweepPlan plan;
        World world;
        std::vector<std::string> warnings;
        {
          py::gil_scoped_release release;
          plan = plan_sweep(load_sweep(path));
          world = load_world(plan.world_path, plan.world_where);
          warnings = validate_sweep(plan, world);
        }
        std::atomic<bool> cancel{false};
        SweepStatus status;
        run_interruptible(cancel, [&] {
          SweepOptions opt;
          opt.out = out;
          opt.threads = threads;
          opt.resume = resume;
          opt.restart = restart;
          opt.cancel = &cancel;
          status = run_sweep(plan, world, opt);
        });
        if (status.interrupted) throw Interrupted();
        return warnings;
      },
      py::arg("path"), py::arg("out"), py::arg("threads") = 0, py::arg("resume") = false,
      py::arg("restart") = false);
}

/// shortfall.Simulation: a run step by step, its state as arrays.
void bind_simulation(py::module_& m) {
  py::class_<PySimulation>(m, "Simulation")
      .def(py::init([](std::shared_ptr<const World> world, std::shared_ptr<const Scenario> sc,
                       int threads, int days) {
             auto s = std::make_unique<PySimulation>();
             s->world = std::move(world);
             s->scenario = std::move(sc);
             RunOptions opt;
             opt.threads = threads;
             opt.days = days;
             py::gil_scoped_release release;
             s->sim = std::make_unique<Simulation>(*s->world, *s->scenario, opt);
             return s;
           }),
           py::arg("world"), py::arg("scenario"), py::arg("threads") = 0, py::arg("days") = 0)
      .def(
          "step",
          [](PySimulation& s) {
            py::gil_scoped_release release;
            return s.sim->step();
          },
          "Simulate the next day; False when all days are done.")
      .def_property_readonly("day", [](const PySimulation& s) { return s.sim->day(); })
      .def_property_readonly("total_days",
                             [](const PySimulation& s) { return s.sim->total_days(); })
      .def_property_readonly("threads", [](const PySimulation& s) { return s.sim->threads(); })
      .def_property_readonly("world", [](const PySimulation& s) { return s.world; })
      .def_property_readonly("scenario", [](const PySimulation& s) { return s.scenario; })
#define SHORTFALL_VIEW(name)                                         \
  .def_property_readonly(#name, [](py::object self) {                \
    return view(self.cast<const PySimulation&>().sim->name(), self); \
  })
          SHORTFALL_VIEW(production) SHORTFALL_VIEW(demand) SHORTFALL_VIEW(capacity)
              SHORTFALL_VIEW(capacity_loss) SHORTFALL_VIEW(final_demand)
                  SHORTFALL_VIEW(final_delivered) SHORTFALL_VIEW(input_shortfall)
                      SHORTFALL_VIEW(binding) SHORTFALL_VIEW(first_shortage_day)
                          SHORTFALL_VIEW(overproduction) SHORTFALL_VIEW(final_demand_wanted)
#undef SHORTFALL_VIEW
      .def("_country_material", [](const PySimulation& s) { return country_material_dict(*s.sim); })
      .def("pooled_stock",
           [](const PySimulation& s, FirmId firm, MaterialId material) {
             if (firm >= s.world->num_firms() || material >= s.world->materials().size())
               throw py::index_error("firm or material index out of range");
             return s.sim->pooled_stock(firm, material);
           })
      .def("_link_state",
           [](const PySimulation& s) {
             const std::size_t n = s.world->num_links();
             py::array_t<double> stock(n), order(n), delivery(n), transit(n);
             py::array_t<std::int32_t> lead(n);
             for (LinkId l = 0; l < n; ++l) {
               stock.mutable_at(l) = s.sim->stock(l);
               order.mutable_at(l) = s.sim->order(l);
               delivery.mutable_at(l) = s.sim->delivery(l);
               transit.mutable_at(l) = s.sim->in_transit(l);
               lead.mutable_at(l) = s.sim->lead_time(l);
             }
             py::dict d;
             d["stock"] = stock, d["order"] = order, d["delivery"] = delivery;
             d["in_transit"] = transit, d["lead_time"] = lead;
             return d;
           })
      .def("event_log", [](const PySimulation& s) {
        py::list out;
        for (const auto& e : s.sim->event_log()) {
          py::dict d;
          d["day"] = e.day, d["type"] = e.type, d["description"] = e.description;
          d["country"] = e.country, d["material"] = e.material, d["firms"] = e.firms;
          d["quantity"] = e.quantity;
          out.append(d);
        }
        return out;
      });
}

}  // namespace

PYBIND11_MODULE(_shortfall, m) {
  m.doc() = "shortfall's engine (use the package `shortfall`, docs/python.md)";
  m.attr("version") = kVersion;

  bind_errors(m);
  bind_world(m);
  bind_scenario(m);
  bind_runs(m);
  bind_simulation(m);
}
