#include "connectors/kafka/field_mapping.h"

#include <array>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "daemon/event_json.h"
#include "daemon/yaml_util.h"

namespace vigil::connectors::kafka {

namespace {

constexpr std::array<std::string_view, 8> kTargets = {"time",     "host",  "ci",    "source",
                                                      "type", "severity", "state", "message"};
constexpr std::string_view kLabelsPrefix = "labels.";

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    if (dot == std::string_view::npos) dot = path.size();
    out.emplace_back(path.substr(start, dot - start));
    start = dot + 1;
  }
  return out;
}

const nlohmann::json* lookup(const nlohmann::json& root, const std::vector<std::string>& path) {
  const nlohmann::json* at = &root;
  for (const auto& part : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(part);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at->is_null() ? nullptr : at;
}

std::string asText(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

Result<std::string> readPath(std::string_view file, const YAML::Node& node) {
  auto path = readString(file, node);
  if (!path) return path;
  for (const auto& part : splitPath(*path)) {
    if (part.empty()) return fail(yamlError(file, node, "bad path '" + *path + "' (empty segment)"));
  }
  return path;
}

}  // namespace

bool isMappableTarget(std::string_view target) {
  if (target.substr(0, kLabelsPrefix.size()) == kLabelsPrefix) return target.size() > kLabelsPrefix.size();
  for (auto t : kTargets) {
    if (t == target) return true;
  }
  return false;
}

Result<std::string> FieldMapping::apply(std::string_view json) const {
  if (!jsonNestingWithin(json, kMaxJsonNesting)) {
    return fail(Status::invalidArgument("nested deeper than " + std::to_string(kMaxJsonNesting) + " levels"));
  }
  const nlohmann::json in = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded()) return fail(Status::invalidArgument("not valid JSON"));
  if (!in.is_object()) return fail(Status::invalidArgument("expected a JSON object"));
  nlohmann::json out = nlohmann::json::object();
  nlohmann::json labels = nlohmann::json::object();
  std::unordered_set<std::string_view> consumed;
  for (const auto& rule : rules_) {
    consumed.insert(rule.path.front());
    std::optional<std::string> value;
    if (const nlohmann::json* found = lookup(in, rule.path)) value = asText(*found);
    if (value) {
      for (const auto& [from, to] : rule.values) {
        if (*value == from) {
          value = to;
          break;
        }
      }
    } else {
      value = rule.default_value;
    }
    if (!value) continue;
    if (rule.target.starts_with(kLabelsPrefix)) {
      labels[rule.target.substr(kLabelsPrefix.size())] = std::move(*value);
    } else {
      out[rule.target] = std::move(*value);
    }
  }
  if (keep_unmapped_) {
    for (const auto& [key, value] : in.items()) {
      if (consumed.count(key) == 0 && !labels.contains(key) && !value.is_null()) labels[key] = asText(value);
    }
  }
  if (!labels.empty()) out["labels"] = std::move(labels);
  return out.dump();
}

Result<FieldMapping> parseFieldMapping(const YAML::Node& node, std::string_view file) {
  if (!node.IsMap()) return fail(yamlError(file, node, "field_mapping: expected a mapping TARGET: PATH"));
  std::vector<FieldRule> rules;
  for (const auto& entry : node) {
    auto target = readString(file, entry.first);
    if (!target) return fail(target.error());
    if (!isMappableTarget(*target)) {
      return fail(yamlError(file, entry.first,
                            "field_mapping: unknown target '" + *target +
                                "' (expected time, host, ci, source, type, severity, state, message "
                                "or labels.NAME)"));
    }
    FieldRule rule;
    rule.target = *target;
    const YAML::Node spec = entry.second;
    if (spec.IsScalar()) {
      auto path = readPath(file, spec);
      if (!path) return fail(path.error());
      rule.path = splitPath(*path);
    } else if (spec.IsMap()) {
      if (Status s = checkKeys(file, spec, {"from", "values", "default"}); !s) return fail(s);
      if (!spec["from"]) return fail(yamlError(file, spec, "field_mapping." + *target + ": 'from' is required"));
      auto path = readPath(file, spec["from"]);
      if (!path) return fail(path.error());
      rule.path = splitPath(*path);
      if (const YAML::Node values = spec["values"]) {
        if (!values.IsMap()) return fail(yamlError(file, values, "values: expected a mapping FROM: TO"));
        for (const auto& v : values) {
          auto from = readString(file, v.first);
          if (!from) return fail(from.error());
          auto to = readString(file, v.second);
          if (!to) return fail(to.error());
          rule.values.emplace_back(std::move(*from), std::move(*to));
        }
      }
      if (const YAML::Node d = spec["default"]) {
        auto value = readString(file, d);
        if (!value) return fail(value.error());
        rule.default_value = std::move(*value);
      }
    } else {
      return fail(yamlError(file, spec, "field_mapping." + *target + ": expected PATH or {from: PATH, values: {...}}"));
    }
    rules.push_back(std::move(rule));
  }
  return FieldMapping(std::move(rules), true);
}

}  // namespace vigil::connectors::kafka
