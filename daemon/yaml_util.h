// Helpers for reading YAML config and rule files with errors that point at `file:line:col`.
// yaml-cpp throws; these helpers keep its exceptions inside the loader that called them.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <yaml-cpp/yaml.h>

#include "daemon/status.h"

namespace vigil {

// "file:line:col: message", with 1-based line and column taken from the node's mark.
Status yamlError(std::string_view file, const YAML::Node& node, std::string_view message);
Status yamlError(std::string_view file, const YAML::Mark& mark, std::string_view message);

// Parses a whole document; a syntax error comes back as `file:line:col: message`.
Result<YAML::Node> loadYamlFile(const std::string& path);
Result<YAML::Node> loadYamlString(std::string_view text, std::string_view file);

// Rejects keys of a map that are not in `allowed` (typos must not pass silently).
Status checkKeys(std::string_view file, const YAML::Node& map,
                 std::initializer_list<std::string_view> allowed);
// checkKeys() for one key at `mark`, for readers that walk parser events instead of a node tree.
Status checkKey(std::string_view file, const YAML::Mark& mark, std::string_view key,
                std::initializer_list<std::string_view> allowed);

// Typed scalar readers: error when the node is not a scalar of the type.
Result<std::string> readString(std::string_view file, const YAML::Node& node);
Result<int64_t> readInt(std::string_view file, const YAML::Node& node, int64_t min, int64_t max);
// readInt() of a scalar's text at `mark`.
Result<int64_t> parseInt(std::string_view file, const YAML::Mark& mark, const std::string& scalar, int64_t min,
                         int64_t max);
Result<bool> readBool(std::string_view file, const YAML::Node& node);
// Durations like "250ms", "30s", "5m", "2h", "1d", or a bare number of seconds.
Result<std::chrono::milliseconds> readDuration(std::string_view file, const YAML::Node& node);
// Sizes like "64KiB", "1MiB", "512", "2GiB".
Result<uint64_t> readSize(std::string_view file, const YAML::Node& node);

// One entry of a component's config reference table: the key, its default, what it does. Each
// component keeps one table, so its docs and its parser name the same keys.
struct ConfigKey {
  std::string_view key;
  std::string_view default_value;
  std::string_view description;
};

// Collects every error of a file, so one --check-config run lists them all.
class ConfigErrors {
 public:
  void add(const Status& s) {
    if (s.isOk()) return;
    text_ += (text_.empty() ? "" : "\n") + s.message();
  }
  // Stores the value, or records the error; true when there was a value.
  template <typename T>
  bool take(Result<T> r, T& out) {
    if (!r) {
      add(r.error());
      return false;
    }
    out = std::move(*r);
    return true;
  }
  bool empty() const { return text_.empty(); }
  Status status() const { return Status::invalidArgument(text_); }

 private:
  std::string text_;
};

// Expands config-file globs (relative ones against base_dir) into a sorted, de-duplicated file
// list. A pattern without wildcards must name an existing file: each one that does not is
// appended to `missing` (as resolved); a wildcard that matches nothing is fine.
std::vector<std::string> expandGlobs(const std::vector<std::string>& globs, const std::string& base_dir,
                                     std::vector<std::string>& missing);

// YAML → JSON, scalars as strings (as the rule loader reads them), null for a null node.
nlohmann::json yamlToJson(const YAML::Node& node);

}  // namespace vigil
