#include "daemon/outbound/webhook_config.h"

#include <algorithm>
#include <cctype>

#include "daemon/config/yaml_list.h"
#include "daemon/yaml_util.h"

namespace vigil::outbound {

using incidents::ChangeKind;
using nlohmann::json;

namespace {

using config::parsePriority;
using config::readList;

std::optional<ChangeKind> parseChangeKind(std::string_view name) {
  for (uint8_t k = 0; k <= static_cast<uint8_t>(incidents::kLastChangeKind); ++k) {
    if (incidents::changeKindName(static_cast<ChangeKind>(k)) == name) return static_cast<ChangeKind>(k);
  }
  return std::nullopt;
}

// YAML → JSON for the template: scalars stay strings unless they are plainly numbers or booleans.
json toJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node) out[item.first.Scalar()] = toJson(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(toJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      if (node.Tag() == "!") return node.Scalar();  // quoted: always a string
      const std::string& s = node.Scalar();
      if (s == "true" || s == "false") return s == "true";
      json number = json::parse(s, nullptr, false);
      if (number.is_number()) return number;
      return s;
    }
    default: return nullptr;
  }
}

bool validName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

void parseMatcher(std::string_view file, const YAML::Node& node, WebhookMatcher& m, ConfigErrors& errors) {
  errors.add(checkKeys(file, node, {"change", "state", "severity", "priority", "service", "ci", "assignment_group",
                                    "host", "rule"}));
  auto text = [](const std::string& s) { return std::optional<std::string>(s); };
  if (node["change"]) readList(file, node["change"], "change kind", parseChangeKind, m.changes, errors);
  if (node["state"]) readList(file, node["state"], "state", incidents::parseIncidentState, m.states, errors);
  if (node["severity"]) {
    readList(file, node["severity"], "severity", [](const std::string& s) { return parseSeverity(s); }, m.severities,
             errors);
  }
  if (node["priority"]) readList(file, node["priority"], "priority P1..P5", parsePriority, m.priorities, errors);
  if (node["service"]) readList(file, node["service"], "service", text, m.services, errors);
  if (node["ci"]) readList(file, node["ci"], "CI", text, m.cis, errors);
  if (node["assignment_group"]) readList(file, node["assignment_group"], "group", text, m.groups, errors);
  if (node["host"]) readList(file, node["host"], "host", text, m.hosts, errors);
  if (node["rule"]) readList(file, node["rule"], "rule", text, m.rules, errors);
}

void parseOne(std::string_view file, const YAML::Node& node, WebhookConfig& c, ConfigErrors& errors) {
  errors.add(checkKeys(file, node, {"name", "url", "match", "template", "headers", "timeout", "max_retries",
                                    "backoff"}));
  if (!node.IsMap()) return;
  if (!node["name"]) errors.add(yamlError(file, node, "missing 'name'"));
  if (!node["url"]) errors.add(yamlError(file, node, "missing 'url'"));
  if (node["name"] && errors.take(readString(file, node["name"]), c.name) && !validName(c.name)) {
    errors.add(yamlError(file, node["name"], "name: letters, digits, '_', '.' and '-' only"));
  }
  if (node["url"] && errors.take(readString(file, node["url"]), c.url) && c.url.rfind("http://", 0) != 0 &&
      c.url.rfind("https://", 0) != 0) {
    errors.add(yamlError(file, node["url"], "expected an http:// or https:// URL"));
  }
  if (node["match"]) parseMatcher(file, node["match"], c.match, errors);
  if (node["template"]) c.body_template = toJson(node["template"]);
  if (const auto headers = node["headers"]) {
    if (!headers.IsMap()) {
      errors.add(yamlError(file, headers, "expected a map of header name to value"));
    } else {
      for (const auto& h : headers) {
        std::string value;
        if (errors.take(readString(file, h.second), value)) c.headers.emplace_back(h.first.Scalar(), value);
      }
    }
  }
  if (node["timeout"]) errors.take(readDuration(file, node["timeout"]), c.timeout);
  int64_t retries = 0;
  if (node["max_retries"] && errors.take(readInt(file, node["max_retries"], 0, 1000000), retries)) {
    c.max_retries = static_cast<int>(retries);
  }
  if (const auto backoff = node["backoff"]) {
    errors.add(checkKeys(file, backoff, {"initial", "max"}));
    if (backoff["initial"]) errors.take(readDuration(file, backoff["initial"]), c.backoff_initial);
    if (backoff["max"]) errors.take(readDuration(file, backoff["max"]), c.backoff_max);
  }
}

const json* lookup(const json& record, std::string_view path) {
  const json* at = &record;
  while (!path.empty()) {
    const size_t dot = path.find('.');
    const std::string part(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (at->is_object()) {
      auto it = at->find(part);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array() && !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }) &&
               std::stoul(part) < at->size()) {
      at = &(*at)[std::stoul(part)];
    } else {
      return nullptr;
    }
  }
  return at;
}

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

json render(const json& tmpl, const json& record) {
  if (tmpl.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : tmpl.items()) out[k] = render(v, record);
    return out;
  }
  if (tmpl.is_array()) {
    json out = json::array();
    for (const auto& v : tmpl) out.push_back(render(v, record));
    return out;
  }
  if (!tmpl.is_string()) return tmpl;
  const std::string& s = tmpl.get_ref<const std::string&>();
  const size_t open = s.find("{{");
  if (open == std::string::npos) return tmpl;
  if (open == 0 && s.size() > 4 && s.compare(s.size() - 2, 2, "}}") == 0 && s.find("{{", 2) == std::string::npos) {
    const json* v = lookup(record, trim(std::string_view(s).substr(2, s.size() - 4)));
    return v ? *v : json(nullptr);
  }
  std::string out;
  size_t pos = 0;
  for (size_t start; (start = s.find("{{", pos)) != std::string::npos;) {
    const size_t end = s.find("}}", start + 2);
    if (end == std::string::npos) break;
    out.append(s, pos, start - pos);
    if (const json* v = lookup(record, trim(std::string_view(s).substr(start + 2, end - start - 2)))) {
      out += v->is_string() ? v->get<std::string>() : v->is_null() ? "" : v->dump();
    }
    pos = end + 2;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

template <typename T>
bool listHas(const std::vector<T>& list, const T& v) {
  return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

}  // namespace

bool WebhookMatcher::matches(ChangeKind change, const incidents::Incident& in) const {
  if (!listHas(changes, change) || !listHas(states, in.state) || !listHas(severities, in.severity) ||
      !listHas(priorities, in.priority) || !listHas(cis, in.ci) || !listHas(groups, in.assignment_group) ||
      !listHas(hosts, in.host) || !listHas(rules, in.rule)) {
    return false;
  }
  return services.empty() || std::any_of(in.services.begin(), in.services.end(),
                                         [&](const std::string& s) { return listHas(services, s); });
}

Result<std::vector<WebhookConfig>> parseWebhooks(const YAML::Node& section, std::string_view file) {
  std::vector<WebhookConfig> out;
  if (!section || section.IsNull()) return out;
  ConfigErrors errors;
  if (!section.IsSequence()) return fail(yamlError(file, section, "expected a list of webhook receivers"));
  for (const auto& node : section) {
    WebhookConfig c;
    parseOne(file, node, c, errors);
    for (const auto& other : out) {
      if (!c.name.empty() && other.name == c.name) errors.add(yamlError(file, node, "duplicate webhook '" + c.name + "'"));
    }
    out.push_back(std::move(c));
  }
  if (!errors.empty()) return fail(errors.status());
  return out;
}

std::string renderBody(const WebhookConfig& config, const json& record) {
  if (!config.body_template) return record.dump(-1, ' ', false, json::error_handler_t::replace);
  return render(*config.body_template, record).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace vigil::outbound
