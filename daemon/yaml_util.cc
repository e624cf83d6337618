#include "daemon/yaml_util.h"

#include <glob.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace vigil {

Status yamlError(std::string_view file, const YAML::Mark& mark, std::string_view message) {
  std::string out(file);
  // yaml-cpp marks are 0-based; a null mark (-1) means "position unknown".
  out += ':' + std::to_string(mark.line >= 0 ? mark.line + 1 : 1);
  out += ':' + std::to_string(mark.column >= 0 ? mark.column + 1 : 1);
  out += ": ";
  out += message;
  return Status::invalidArgument(std::move(out));
}

Status yamlError(std::string_view file, const YAML::Node& node, std::string_view message) {
  return yamlError(file, node.Mark(), message);
}

Result<YAML::Node> loadYamlString(std::string_view text, std::string_view file) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return fail(yamlError(file, e.mark, e.msg));
  }
}

Result<YAML::Node> loadYamlFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return fail(Status::invalidArgument(path + ":1:1: cannot open file"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return loadYamlString(buffer.str(), path);
}

Status checkKey(std::string_view file, const YAML::Mark& mark, std::string_view key,
                std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (key == a) return Status::ok();
  }
  std::string expected;
  for (std::string_view a : allowed) {
    expected += expected.empty() ? "" : ", ";
    expected += a;
  }
  return yamlError(file, mark, "unknown key '" + std::string(key) + "' (expected one of: " + expected + ")");
}

Status checkKeys(std::string_view file, const YAML::Node& map,
                 std::initializer_list<std::string_view> allowed) {
  if (!map.IsMap()) {
    return yamlError(file, map, "expected a mapping");
  }
  for (const auto& item : map) {
    if (Status s = checkKey(file, item.first.Mark(), item.first.Scalar(), allowed); !s.isOk()) return s;
  }
  return Status::ok();
}

Result<std::string> readString(std::string_view file, const YAML::Node& node) {
  if (!node.IsScalar()) {
    return fail(yamlError(file, node, "expected a string"));
  }
  return node.Scalar();
}

Result<int64_t> parseInt(std::string_view file, const YAML::Mark& mark, const std::string& s, int64_t min,
                         int64_t max) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return fail(yamlError(file, mark, "expected an integer, got '" + s + "'"));
  }
  if (value < min || value > max) {
    return fail(yamlError(file, mark,
                          "value " + s + " out of range [" + std::to_string(min) + ", " +
                              std::to_string(max) + "]"));
  }
  return value;
}

Result<int64_t> readInt(std::string_view file, const YAML::Node& node, int64_t min, int64_t max) {
  if (!node.IsScalar()) {
    return fail(yamlError(file, node, "expected an integer"));
  }
  return parseInt(file, node.Mark(), node.Scalar(), min, max);
}

Result<bool> readBool(std::string_view file, const YAML::Node& node) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  return fail(yamlError(file, node, "expected true or false"));
}

namespace {

// Splits "123unit" into the number and the unit; false when the number is missing or bad.
bool splitNumber(const std::string& s, double& number, std::string_view& unit) {
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
    ++i;
  }
  if (i == 0) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + i, number);
  if (ec != std::errc() || ptr != s.data() + i) {
    return false;
  }
  unit = std::string_view(s).substr(i);
  while (!unit.empty() && unit.front() == ' ') {
    unit.remove_prefix(1);
  }
  return true;
}

}  // namespace

Result<std::chrono::milliseconds> readDuration(std::string_view file, const YAML::Node& node) {
  double number = 0;
  std::string_view unit;
  if (!node.IsScalar() || !splitNumber(node.Scalar(), number, unit)) {
    return fail(yamlError(file, node, "expected a duration such as 500ms, 30s, 5m, 2h or 1d"));
  }
  double ms = 0;
  if (unit == "ms") ms = number;
  else if (unit == "s" || unit.empty()) ms = number * 1e3;
  else if (unit == "m") ms = number * 60e3;
  else if (unit == "h") ms = number * 3600e3;
  else if (unit == "d") ms = number * 86400e3;
  else return fail(yamlError(file, node, "unknown duration unit '" + std::string(unit) + "'"));
  // Checked before the cast: a double beyond int64 converts with undefined behaviour.
  constexpr double kMaxMs = 3650.0 * 86400e3;
  if (!(ms >= 0 && ms <= kMaxMs)) {
    return fail(yamlError(file, node, "duration out of range (0 to 3650d)"));
  }
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

Result<uint64_t> readSize(std::string_view file, const YAML::Node& node) {
  double number = 0;
  std::string_view unit;
  if (!node.IsScalar() || !splitNumber(node.Scalar(), number, unit)) {
    return fail(yamlError(file, node, "expected a size such as 512, 64KiB or 1MiB"));
  }
  double factor = 0;
  if (unit.empty() || unit == "B") factor = 1;
  else if (unit == "KiB" || unit == "K" || unit == "KB") factor = 1024;
  else if (unit == "MiB" || unit == "M" || unit == "MB") factor = 1024.0 * 1024;
  else if (unit == "GiB" || unit == "G" || unit == "GB") factor = 1024.0 * 1024 * 1024;
  else return fail(yamlError(file, node, "unknown size unit '" + std::string(unit) + "'"));
  constexpr double kMaxBytes = 1024.0 * 1024 * 1024 * 1024 * 1024;  // 1 PiB
  const double bytes = number * factor;
  if (!(bytes >= 0 && bytes <= kMaxBytes)) return fail(yamlError(file, node, "size out of range (0 to 1PiB)"));
  return static_cast<uint64_t>(bytes);
}

std::vector<std::string> expandGlobs(const std::vector<std::string>& globs, const std::string& base_dir,
                                     std::vector<std::string>& missing) {
  std::vector<std::string> files;
  for (const std::string& g : globs) {
    std::string pattern = g;
    if (!pattern.empty() && pattern.front() != '/' && !base_dir.empty()) {
      pattern = base_dir + (base_dir.back() == '/' ? "" : "/") + pattern;
    }
    glob_t matches{};
    std::vector<std::string> found;
    if (::glob(pattern.c_str(), 0, nullptr, &matches) == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) found.emplace_back(matches.gl_pathv[i]);
    }
    ::globfree(&matches);
    if (found.empty() && g.find_first_of("*?[") == std::string::npos) missing.push_back(pattern);
    std::sort(found.begin(), found.end());
    for (std::string& f : found) {
      if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(std::move(f));
    }
  }
  return files;
}

nlohmann::json yamlToJson(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& item : node) j[item.first.Scalar()] = yamlToJson(item.second);
    return j;
  }
  if (node.IsSequence()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& item : node) j.push_back(yamlToJson(item));
    return j;
  }
  if (node.IsScalar()) return node.Scalar();
  return nullptr;
}

}  // namespace vigil
