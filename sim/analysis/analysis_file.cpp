// The analysis's HDF5 file (write_analysis in include/shortfall/analyze.hpp; the layout in
// docs/analysis.md), written through the common writer (util/h5_writer.hpp) under a
// temporary name, then renamed.
#include <hdf5.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "analysis/analysis_common.hpp"
#include "shortfall/analyze.hpp"
#include "shortfall/version.hpp"
#include "util/atomic_file.hpp"
#include "util/h5_writer.hpp"

namespace shortfall {

// ---- HDF5 ---------------------------------------------------------------------------------------

namespace {

using analysis_common::kNaN;

/// The analysis file's writer: the common one (util/h5_writer.hpp), with timestamps, and the
/// analysis's datasets.
class H5 : public detail::H5Writer {
 public:
  explicit H5(std::string path) : H5Writer(std::move(path), "the analysis", /*track_times=*/true) {}

  void attr_double(hid_t obj, const char* name, double value) const {
    attr_scalar<double>(obj, name, H5T_IEEE_F64LE, value);
  }
  /// A 1-d string dataset; a dimension scale named `name` if `scale`.
  detail::H5Handle strings(hid_t g, const char* name, const std::vector<std::string>& values,
                           bool scale) const {
    if (scale) return scale_strings(g, name, values, {});
    return H5Writer::strings(g, name, values, {});
  }
  detail::H5Handle ints(hid_t g, const char* name, const std::vector<int>& values,
                        bool scale) const {
    detail::H5Handle d = H5Writer::ints(g, name, values, {values.size()}, {});
    return scale ? make_scale(std::move(d), name) : std::move(d);
  }
  /// An n-d double dataset over `scales` (its shape theirs), NaN where not written; in chunks
  /// of at most ~64k values, deflated, where larger than 4096 values.
  void doubles(hid_t g, const char* name, const std::vector<double>& data,
               std::initializer_list<hid_t> scales, const std::string& units,
               const std::string& long_name) const {
    std::vector<hsize_t> dims;
    for (hid_t s : scales) {
      detail::H5Handle sp(H5Dget_space(s), H5Sclose);
      hsize_t n = 0;
      H5Sget_simple_extent_dims(sp, &n, nullptr);
      dims.push_back(n);
    }
    hsize_t total = 1;
    for (auto n : dims) total *= n;
    if (total != data.size()) fail(std::string(name) + ": size mismatch");
    detail::H5Layout layout{.nan_fill = true};
    if (total > 4096) {
      std::vector<hsize_t> chunk(dims);
      // Chunks of at most ~64k values along the leading dimensions.
      hsize_t c = total;
      for (std::size_t k = 0; k < chunk.size() && c > 65536; ++k) {
        hsize_t shrink = std::min<hsize_t>(chunk[k], (c + 65535) / 65536);
        chunk[k] = std::max<hsize_t>(1, chunk[k] / shrink);
        c = 1;
        for (auto x : chunk) c *= x;
      }
      layout.chunk = chunk;
      layout.deflate = 1;
    }
    H5Writer::doubles(g, name, data, dims, layout,
                      {.scales = scales, .units = units, .long_name = long_name});
  }
  void attach_strings(hid_t g, const char* name, const std::vector<std::string>& values,
                      hid_t scale) const {
    H5Writer::strings(g, name, values, {}, {.scales = {scale}});
  }
};

std::vector<std::string> codes(const World& w) {
  std::vector<std::string> v;
  for (auto& c : w.countries()) v.push_back(c.code);
  return v;
}
std::vector<std::string> names(const World& w) {
  std::vector<std::string> v;
  for (auto& c : w.countries()) v.push_back(c.name);
  return v;
}
std::vector<std::string> material_ids(const World& w, const std::vector<MaterialId>& ids) {
  std::vector<std::string> v;
  for (auto p : ids) v.push_back(w.materials()[p].id);
  return v;
}
std::vector<MaterialId> all_materials(const World& w) {
  std::vector<MaterialId> v(w.materials().size());
  std::iota(v.begin(), v.end(), MaterialId(0));
  return v;
}

/// One analysis file being written: a function per group, each handle it opens kept open (and
/// closed by the destructor, on failure too) until close().
struct AnalysisFile {
  const H5& h;
  const Analysis& a;
  const World& w;
  hid_t file;
  std::vector<detail::H5Handle> open;

  hid_t keep(detail::H5Handle d) {
    open.push_back(std::move(d));
    return open.back().get();
  }
  hid_t grp(const char* name) { return keep(h.group(file, name)); }
  void close() { open.clear(); }

  void attributes() {
    h.attr_string(file, "world_sha256", w.sha256());
    h.attr_string(file, "world_source", w.source());
    h.attr_string(file, "program_version", kVersion);
    h.attr_string(file, "scenario_name", a.scenario_name);
    h.attr_string(file, "definitions", "docs/analysis.md");
    std::string notes;
    for (const auto& n : a.notes) notes += (notes.empty() ? "" : "; ") + n;
    h.attr_string(file, "notes", notes);
  }

  void dependency() {
    const auto& E = a.dep.end_product;
    hid_t g = grp("dependency");
    hid_t pc = keep(h.strings(g, "producer_country", codes(w), true));
    hid_t ep = keep(h.strings(g, "end_product", material_ids(w, E), true));
    hid_t mt = keep(h.strings(g, "material", material_ids(w, all_materials(w)), true));
    hid_t oc = keep(h.strings(g, "origin_country", codes(w), true));
    h.attach_strings(g, "country_name", names(w), oc);
    h.doubles(g, "share", a.dep.share, {pc, ep, mt, oc}, "1",
              "share of the total requirement of the material, per unit of the end product "
              "made in producer_country, that is produced in origin_country");
    h.doubles(g, "requirement", a.dep.requirement, {pc, ep, mt},
              "units of the material per unit of the end product",
              "total (direct and indirect) requirement: column of L - I");
    h.doubles(g, "hhi", a.dep.hhi, {pc, ep, mt}, "1",
              "Herfindahl-Hirschman index of share over origin countries");
    h.doubles(g, "world_share", a.dep.world_share, {ep, mt, oc}, "1",
              "share over origin countries for all producers of the end product, weighted by "
              "their output");
    h.doubles(g, "world_requirement", a.dep.world_requirement, {ep, mt},
              "units of the material per unit of the end product",
              "total requirement per unit of world output of the end product");
    h.doubles(g, "world_hhi", a.dep.world_hhi, {ep, mt}, "1",
              "Herfindahl-Hirschman index of world_share");
    h.attr_double(g, "iterations", a.dep.iterations);
  }

  void pass_through() {
    hid_t g = grp("pass_through");
    hid_t pc = keep(h.strings(g, "producer_country", codes(w), true));
    hid_t ep = keep(h.strings(g, "end_product", material_ids(w, a.pass.end_product), true));
    hid_t cc = keep(h.strings(g, "country", codes(w), true));
    h.attach_strings(g, "country_name", names(w), cc);
    h.doubles(g, "frequency", a.pass.frequency, {pc, ep, cc}, "1",
              "share of supply paths from raw-material nodes to the end-product producer that "
              "have an interior node in the country");
    h.doubles(g, "origin_frequency", a.pass.origin, {pc, ep, cc}, "1",
              "share of those paths that start in the country");
    h.doubles(g, "path_count", a.pass.path_count, {pc, ep}, "paths",
              "number of supply paths from raw-material nodes to the producer");
    h.doubles(g, "world_frequency", a.pass.world_frequency, {ep, cc}, "1",
              "frequency over the paths to all producers of the end product");
    h.doubles(g, "world_origin_frequency", a.pass.world_origin, {ep, cc}, "1",
              "origin frequency over the paths to all producers of the end product");
    h.attr_double(g, "dropped_cycle_edges", double(a.pass.dropped_cycle_edges));
  }

  /// Betweenness of the (country, material) nodes, the country links and the firms.
  void betweenness(hid_t g) {
    hid_t cc = keep(h.strings(g, "country", codes(w), true));
    hid_t mt = keep(h.strings(g, "material", material_ids(w, all_materials(w)), true));
    h.attach_strings(g, "country_name", names(w), cc);
    h.doubles(g, "node_betweenness", a.btw.node, {cc, mt}, "1",
              "betweenness of the (country, material) node, normalised by (N-1)(N-2)");
    hid_t sc = keep(h.strings(g, "supplier_country", codes(w), true));
    hid_t bc = keep(h.strings(g, "buyer_country", codes(w), true));
    h.doubles(g, "link_betweenness", a.btw.link, {sc, bc}, "1",
              "sum of the edge betweenness of (country, material) edges from supplier to "
              "buyer country, normalised by N(N-1)");
    hid_t fm = keep(h.strings(g, "firm", w.firm_id(), true));
    std::vector<std::string> fc(w.num_firms()), fmat(w.num_firms());
    for (FirmId i = 0; i < w.num_firms(); ++i) {
      fc[i] = w.countries()[w.firm_country()[i]].code;
      fmat[i] = w.materials()[w.firm_material()[i]].id;
    }
    h.attach_strings(g, "firm_country", fc, fm);
    h.attach_strings(g, "firm_material", fmat, fm);
    std::vector<double> fb = a.btw.firm;
    if (fb.empty()) fb.assign(w.num_firms(), kNaN);
    h.doubles(g, "firm_betweenness", fb, {fm}, "1",
              "betweenness of the firm, normalised by (n-1)(n-2); NaN: not computed");
  }

  /// The knockout candidates (in the same group as the betweenness).
  void knockouts(hid_t g) {
    const auto& E = a.dep.end_product;
    const std::size_t K = a.knock.size();
    std::vector<int> index(K);
    std::iota(index.begin(), index.end(), 0);
    hid_t cand = keep(h.ints(g, "candidate", index, true));
    hid_t kep = keep(h.strings(g, "end_product", material_ids(w, E), true));
    std::vector<std::string> kind(K), label(K);
    std::vector<double> btw(K), stat(K), worst(K), mean(K), kworst(K);
    std::vector<double> lost(K * E.size(), kNaN), knock_on(K * E.size(), kNaN);
    static const char* kinds[] = {"firm", "country_material", "country_link"};
    for (std::size_t q = 0; q < K; ++q) {
      const auto& ko = a.knock[q];
      kind[q] = kinds[ko.kind];
      label[q] = ko.label;
      btw[q] = ko.betweenness;
      stat[q] = ko.static_score;
      worst[q] = ko.worst;
      mean[q] = ko.mean;
      kworst[q] = ko.knock_on_worst;
      for (std::size_t e = 0; e < E.size() && e < ko.lost_share.size(); ++e) {
        lost[q * E.size() + e] = ko.lost_share[e];
        knock_on[q * E.size() + e] = ko.knock_on_share[e];
      }
    }
    h.attach_strings(g, "kind", kind, cand);
    h.attach_strings(g, "label", label, cand);
    h.doubles(g, "betweenness", btw, {cand}, "1", "betweenness of the candidate");
    h.doubles(g, "static_score", stat, {cand}, "1",
              "firm: ESRI; country_material: max world dependency share; country_link: max "
              "share of a material the importer gets from the exporter");
    h.doubles(g, "lost_share", lost, {cand, kep}, "1",
              "final deliveries of the end product lost over the run / baseline final demand "
              "over the run");
    h.doubles(g, "knock_on_share", knock_on, {cand, kep}, "1",
              "lost_share counting only the final deliveries of firms not removed themselves");
    h.doubles(g, "worst_lost_share", worst, {cand}, "1", "max over end products of lost_share");
    h.doubles(g, "worst_knock_on_share", kworst, {cand}, "1",
              "max over end products of knock_on_share (candidates are in this order)");
    h.doubles(g, "mean_lost_share", mean, {cand}, "1", "mean over end products of lost_share");
    h.attr_double(g, "knockout_days", a.knockout_days);
  }

  void esri() {
    hid_t g = grp("esri");
    hid_t fm = keep(h.strings(g, "firm", w.firm_id(), true));
    h.doubles(g, "esri", a.risk.esri, {fm}, "1",
              "mean over materials of the share of the material's world output lost when the "
              "firm stops (downstream and upstream cascade)");
    h.doubles(g, "esri_max", a.risk.esri_max, {fm}, "1", "max over materials of that share");
    h.doubles(g, "esri_downstream", a.risk.esri_downstream, {fm}, "1",
              "ESRI with the downstream cascade only");
    h.doubles(g, "esri_upstream", a.risk.esri_upstream, {fm}, "1",
              "ESRI with the upstream cascade only");
    if (!a.risk.loss_by_material.empty()) {
      hid_t mt = keep(h.strings(g, "material", material_ids(w, all_materials(w)), true));
      h.doubles(g, "loss_by_material", a.risk.loss_by_material, {fm, mt}, "1",
                "share of the material's world output lost when the firm stops");
    }
  }
};

}  // namespace

void write_analysis(const Analysis& a, const World& w, const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  namespace fs = std::filesystem;
  fs::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  H5 h(tmp);
  detail::H5Handle file = detail::h5_create_file(tmp, {.v18_format = false, .root_times = true});
  h.check(file.get(), "create " + tmp + " (" + std::strerror(errno) + ")");
  try {
    AnalysisFile out{h, a, w, file.get(), {}};
    out.attributes();
    out.dependency();
    out.pass_through();
    const hid_t chokepoints = out.grp("chokepoints");
    out.betweenness(chokepoints);
    out.knockouts(chokepoints);
    if (!a.risk.esri.empty()) out.esri();
    out.close();
    if (H5Fclose(file.release()) < 0) h.fail("closing the file");
  } catch (...) {
    file.reset();  // the group and dataset handles were closed when `out` went out of scope
    std::remove(tmp.c_str());
    throw;
  }
  util::publish_file(tmp, path, "the analysis");
}

}  // namespace shortfall
