// Reading "one value or a list of them" from YAML, each value converted and checked; shared by the
// config sections that take matchers (sla escalation, webhooks).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/yaml_util.h"

namespace vigil::config {

// "P1".."P5" (or "p1".."p5") → 1..5.
inline std::optional<uint8_t> parsePriority(std::string_view text) {
  if (text.size() == 2 && (text[0] == 'P' || text[0] == 'p') && text[1] >= '1' && text[1] <= '5') {
    return static_cast<uint8_t>(text[1] - '0');
  }
  return std::nullopt;
}

// Appends each scalar of `node` (a scalar or a list) converted by `parse`, which returns nullopt
// for a bad value; errors name `what` and point at the value.
template <typename T, typename Parse>
void readList(std::string_view file, const YAML::Node& node, std::string_view what, Parse parse, std::vector<T>& out,
              ConfigErrors& errors) {
  std::vector<YAML::Node> items;
  if (node.IsScalar()) {
    items.push_back(node);
  } else if (node.IsSequence()) {
    for (const auto& item : node) items.push_back(item);
  } else {
    errors.add(yamlError(file, node, "expected a " + std::string(what) + " or a list of them"));
    return;
  }
  for (const auto& item : items) {
    std::string text;
    if (!errors.take(readString(file, item), text)) continue;
    if (std::optional<T> v = parse(text)) {
      out.push_back(std::move(*v));
    } else {
      errors.add(yamlError(file, item, "expected a " + std::string(what) + ", got '" + text + "'"));
    }
  }
}

}  // namespace vigil::config
