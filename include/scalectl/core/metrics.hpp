#pragma once
// Prometheus metrics as data: the families scalectl exports, the text exposition format that
// node_exporter's textfile collector reads, and the remembered groups of samples that let one
// invocation rewrite the whole file although it only knows its own command's values.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace scalectl::core {

struct PromSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // written in this order
  double value = 0;
};

struct PromFamily {
  std::string name;
  std::string type;  // "gauge"
  std::string help;
};

// Returns every metric family scalectl writes, in the order they appear in the file.
const std::vector<PromFamily>& metric_families();

// Returns the family called `name`, or nullptr when scalectl does not export it.
const PromFamily* find_metric_family(std::string_view name);

// Returns true for a valid metric or label name ([a-zA-Z_][a-zA-Z0-9_]*; labels not "__"-prefixed).
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

// Renders `samples` in the Prometheus text format 0.0.4: one HELP and TYPE line per family in
// metric_families() order, label values escaped, samples sorted by labels. Samples of unknown
// families or with invalid label names are skipped; of two samples of the same series the later wins.
std::string render_text_format(const std::vector<PromSample>& samples);

// The remembered samples, as JSON: {"groups": {GROUP: {"updated_ms": N, "samples": [...]}}}.
// Returns `state` with each group in `updates` replaced by its new samples.
nlohmann::json merge_metric_groups(nlohmann::json state,
                                   const std::map<std::string, std::vector<PromSample>>& updates,
                                   std::int64_t now_ms);

// Returns every sample remembered in `state`, group by group; malformed entries are skipped.
std::vector<PromSample> remembered_samples(const nlohmann::json& state);

}  // namespace scalectl::core
