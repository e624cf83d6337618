#include "rules/yaml_loader.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "daemon/yaml_util.h"
#include "rules/field.h"

namespace vigil::rules {
namespace {

using Op = ConditionSpec::Op;
using Kind = ConditionSpec::Kind;

Position posOf(const YAML::Mark& mark) {
  return {mark.line >= 0 ? mark.line + 1 : 0, mark.column >= 0 ? mark.column + 1 : 0};
}
Position posOf(const YAML::Node& node) { return posOf(node.Mark()); }

bool isKnownField(std::string_view field) { return parseFieldName(field).has_value(); }

constexpr std::string_view kRuleKeys =
    "name, description, match, set, key, title, urgency, priority, assign, annotate, action, continue, "
    "threshold, pair, flapping, group, heartbeat, reopen_within, auto_close_after";

// "P1".."P5" → 1..5; 0 when invalid.
uint8_t parsePriorityName(std::string_view text) {
  if (text.size() == 2 && (text[0] == 'P' || text[0] == 'p') && text[1] >= '1' && text[1] <= '5') {
    return static_cast<uint8_t>(text[1] - '0');
  }
  return 0;
}

std::optional<Op> parseOp(std::string_view name) {
  static constexpr std::pair<std::string_view, Op> kOps[] = {
      {"equals", Op::kEquals}, {"in", Op::kIn}, {"prefix", Op::kPrefix}, {"regex", Op::kRegex},
      {"exists", Op::kExists}, {"gt", Op::kGt}, {"lt", Op::kLt},         {"ge", Op::kGe},
      {"le", Op::kLe}};
  for (const auto& [n, op] : kOps) {
    if (n == name) {
      return op;
    }
  }
  return std::nullopt;
}

bool validRuleName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
  });
}

// Parses one file; remembers whether the rule being parsed had an error.
class FileParser {
 public:
  FileParser(std::string_view file, std::vector<RuleError>& errors)
      : file_(file), errors_(errors) {}

  void parseDocument(const YAML::Node& root, std::vector<RuleSpec>& rules,
                     std::optional<PriorityMatrix>& matrix) {
    if (root.IsNull()) {
      return;  // an empty file holds no rules
    }
    if (!root.IsMap()) {
      error(root, "expected a mapping with a 'rules' list");
      return;
    }
    for (const auto& item : root) {
      const std::string key = item.first.Scalar();
      if (key == "priority_matrix") {
        parsePriorityMatrix(item.first, item.second, matrix);
        continue;
      }
      if (key != "rules") {
        error(item.first, "unknown key '" + key + "' (expected: rules, priority_matrix)");
        continue;
      }
      if (item.second.IsNull()) {
        continue;
      }
      if (!item.second.IsSequence()) {
        error(item.second, "'rules' must be a list of rules");
        continue;
      }
      for (const auto& node : item.second) {
        RuleSpec rule;
        failed_ = false;
        parseRule(node, rule);
        if (!failed_) {
          rules.push_back(std::move(rule));
        }
      }
    }
  }

 private:
  // priority_matrix: {1: [P1, P2, P3], ..., 5: [...]} — rows by CI criticality, columns by
  // urgency high, medium, low. Every row must be given.
  void parsePriorityMatrix(const YAML::Node& key, const YAML::Node& node,
                           std::optional<PriorityMatrix>& matrix) {
    if (matrix) {
      error(key, "priority_matrix is already set at " + matrix->file + ':' +
                     std::to_string(matrix->pos.line) + ':' + std::to_string(matrix->pos.column));
      return;
    }
    if (!node.IsMap()) {
      error(node, "priority_matrix must map each CI criticality 1..5 to [high, medium, low] priorities");
      return;
    }
    PriorityMatrix m;
    m.file = file_;
    m.pos = posOf(key);
    bool seen[5] = {};
    bool ok = true;
    for (const auto& row : node) {
      const std::string name = row.first.Scalar();
      if (name.size() != 1 || name[0] < '1' || name[0] > '5') {
        error(row.first, "unknown criticality '" + name + "' (expected 1, 2, 3, 4 or 5)");
        ok = false;
        continue;
      }
      const size_t r = static_cast<size_t>(name[0] - '1');
      seen[r] = true;
      if (!row.second.IsSequence() || row.second.size() != 3) {
        error(row.second, "expected three priorities [high, medium, low], e.g. [P1, P2, P3]");
        ok = false;
        continue;
      }
      for (size_t u = 0; u < 3; ++u) {
        const YAML::Node cell = row.second[u];
        const uint8_t p = cell.IsScalar() ? parsePriorityName(cell.Scalar()) : 0;
        if (p == 0) {
          error(cell, "expected a priority P1..P5");
          ok = false;
        }
        m.rows[r][u] = p;
      }
    }
    for (size_t r = 0; r < 5; ++r) {
      if (!seen[r]) {
        error(node, "priority_matrix has no row for criticality " + std::to_string(r + 1));
        ok = false;
      }
    }
    if (ok) matrix = m;
  }

  void error(const YAML::Node& node, std::string message) {
    errors_.push_back({file_, posOf(node), std::move(message)});
    failed_ = true;
  }

  std::optional<Located> scalar(const YAML::Node& node, std::string_view what) {
    if (!node.IsScalar()) {
      error(node, std::string(what) + " must be a string");
      return std::nullopt;
    }
    return Located{node.Scalar(), posOf(node)};
  }

  std::optional<bool> boolean(const YAML::Node& node, std::string_view what) {
    if (node.IsScalar()) {
      const std::string& s = node.Scalar();
      if (s == "true" || s == "yes" || s == "on") return true;
      if (s == "false" || s == "no" || s == "off") return false;
    }
    error(node, std::string(what) + " must be true or false");
    return std::nullopt;
  }

  void parseRule(const YAML::Node& node, RuleSpec& rule) {
    rule.file = file_;
    rule.pos = posOf(node);
    if (!node.IsMap()) {
      error(node, "a rule must be a mapping");
      return;
    }
    bool has_name = false;
    for (const auto& item : node) {
      const std::string key = item.first.Scalar();
      const YAML::Node& value = item.second;
      if (key == "name") {
        has_name = true;
        if (auto s = scalar(value, "name")) {
          rule.name = *s;
          if (!validRuleName(s->text)) {
            error(value, "invalid rule name '" + s->text +
                             "' (use letters, digits, '-', '_' and '.')");
          }
        }
      } else if (key == "description") {
        rule.description = scalar(value, "description");
      } else if (key == "urgency") {
        rule.urgency = scalar(value, "urgency");
      } else if (key == "priority") {
        rule.priority = scalar(value, "priority");
      } else if (key == "assign") {
        rule.assign = scalar(value, "assign");
      } else if (key == "annotate") {
        parseAnnotate(value, rule);
      } else if (key == "match") {
        rule.match.pos = posOf(value);
        parseConditionMap(value, rule.match);
      } else if (key == "set") {
        parseSet(value, rule.set);
      } else if (key == "key") {
        rule.key = scalar(value, "key");
      } else if (key == "title") {
        rule.title = scalar(value, "title");
      } else if (key == "action") {
        if (auto s = scalar(value, "action")) {
          if (s->text == "drop") {
            rule.action = Action::kDrop;
          } else {
            error(value, "unknown action '" + s->text + "' (expected: drop)");
          }
        }
      } else if (key == "continue") {
        rule.continue_ = boolean(value, "continue").value_or(false);
      } else if (isCorrelationKey(key)) {
        parseCorrelation(item.first, value, rule);
      } else {
        error(item.first, "unknown key '" + key + "' (expected one of: " + std::string(kRuleKeys) + ")");
      }
    }
    if (!has_name) {
      error(node, "rule has no name");
    }
  }

  static bool isCorrelationKey(std::string_view key) {
    return key == "threshold" || key == "pair" || key == "flapping" || key == "group" ||
           key == "heartbeat" || key == "reopen_within" || key == "auto_close_after";
  }

  std::optional<Duration> duration(const YAML::Node& node, std::string_view what) {
    auto d = readDuration(file_, node);
    if (!d || d->count() <= 0) {
      error(node, std::string(what) + " must be a positive duration such as 30s, 5m or 2h");
      return std::nullopt;
    }
    return *d;
  }

  std::optional<uint32_t> count(const YAML::Node& node, std::string_view what, uint32_t min) {
    auto n = readInt(file_, node, min, 1000000);
    if (!n) {
      error(node, std::string(what) + " must be a whole number from " + std::to_string(min) +
                      " to 1000000");
      return std::nullopt;
    }
    return static_cast<uint32_t>(*n);
  }

  // The value of a primitive's key must be a mapping of exactly `keys` (all required).
  bool primitiveMap(const YAML::Node& name, const YAML::Node& value,
                    std::initializer_list<std::string_view> required,
                    std::initializer_list<std::string_view> optional = {}) {
    const std::string what = name.Scalar();
    if (!value.IsMap()) {
      error(value, "'" + what + "' must be a mapping");
      return false;
    }
    bool ok = true;
    for (const auto& item : value) {
      const std::string k = item.first.Scalar();
      const auto known = [&](auto list) {
        return std::find(list.begin(), list.end(), k) != list.end();
      };
      if (!known(required) && !known(optional)) {
        std::string expected;
        for (auto r : required) expected += (expected.empty() ? "" : ", ") + std::string(r);
        for (auto o : optional) expected += (expected.empty() ? "" : ", ") + std::string(o);
        error(item.first, "unknown key '" + k + "' in " + what + " (expected one of: " + expected + ")");
        ok = false;
      }
    }
    for (auto r : required) {
      if (!value[std::string(r)]) {
        error(value, "'" + what + "' needs '" + std::string(r) + "'");
        ok = false;
      }
    }
    return ok;
  }

  // threshold / pair / flapping / group / heartbeat / reopen_within / auto_close_after.
  void parseCorrelation(const YAML::Node& name, const YAML::Node& value, RuleSpec& rule) {
    const std::string key = name.Scalar();
    CorrelationSpec& c = rule.correlation ? *rule.correlation : rule.correlation.emplace();
    if (key == "reopen_within") {
      c.reopen_within = duration(value, "reopen_within");
      return;
    }
    if (key == "auto_close_after") {
      c.auto_close_after = duration(value, "auto_close_after");
      return;
    }
    if (c.primitive != Primitive::kNone) {
      error(name, "a rule has at most one correlation primitive ('" + key + "' after '" +
                      std::string(primitiveName(c.primitive)) + "')");
      return;
    }
    c.pos = posOf(name);
    if (key == "threshold") {
      c.primitive = Primitive::kThreshold;
      if (!primitiveMap(name, value, {"count", "window"})) return;
      c.count = count(value["count"], "count", 2).value_or(0);
      c.window = duration(value["window"], "window").value_or(Duration(0));
    } else if (key == "pair") {
      c.primitive = Primitive::kPair;
      if (!primitiveMap(name, value, {"timeout"}, {"on_timeout"})) return;
      c.timeout = duration(value["timeout"], "timeout").value_or(Duration(0));
      if (const auto action = value["on_timeout"]) {
        const std::string a = action.IsScalar() ? action.Scalar() : "";
        if (a == "resolve") c.on_timeout = TimeoutAction::kResolve;
        else if (a == "stale") c.on_timeout = TimeoutAction::kStale;
        else if (a == "escalate") c.on_timeout = TimeoutAction::kEscalate;
        else error(action, "unknown on_timeout '" + a + "' (expected resolve, stale or escalate)");
      }
    } else if (key == "flapping") {
      c.primitive = Primitive::kFlapping;
      if (!primitiveMap(name, value, {"changes", "window"}, {"quiet"})) return;
      c.changes = count(value["changes"], "changes", 2).value_or(0);
      c.window = duration(value["window"], "window").value_or(Duration(0));
      c.quiet = value["quiet"] ? duration(value["quiet"], "quiet").value_or(Duration(0)) : c.window;
    } else if (key == "group") {
      c.primitive = Primitive::kGroup;
      if (!primitiveMap(name, value, {"by", "window"})) return;
      c.group_by = scalar(value["by"], "group by");
      c.window = duration(value["window"], "window").value_or(Duration(0));
    } else if (key == "heartbeat") {
      c.primitive = Primitive::kHeartbeat;
      if (!primitiveMap(name, value, {"every"})) return;
      c.every = duration(value["every"], "every").value_or(Duration(0));
    }
  }

  // Appends the conditions of a `match:`-style mapping to `parent` (a kAll node).
 public:
  void parseConditionMap(const YAML::Node& node, ConditionSpec& parent) {
    if (!node.IsMap()) {
      error(node, "a condition must be a mapping of field: test");
      return;
    }
    for (const auto& item : node) {
      const std::string key = item.first.Scalar();
      const YAML::Node& value = item.second;
      if (key == "any" || key == "all") {
        ConditionSpec group{.kind = key == "any" ? Kind::kAny : Kind::kAll, .pos = posOf(item.first)};
        if (!value.IsSequence() || value.size() == 0) {
          error(value, "'" + key + "' must be a non-empty list of conditions");
          continue;
        }
        for (const auto& element : value) {
          ConditionSpec child{.kind = Kind::kAll, .pos = posOf(element)};
          parseConditionMap(element, child);
          group.children.push_back(std::move(child));
        }
        parent.children.push_back(std::move(group));
      } else if (key == "not") {
        ConditionSpec negation{.kind = Kind::kNot, .pos = posOf(item.first)};
        ConditionSpec child{.kind = Kind::kAll, .pos = posOf(value)};
        parseConditionMap(value, child);
        negation.children.push_back(std::move(child));
        parent.children.push_back(std::move(negation));
      } else if (isKnownField(key)) {
        parseFieldTests(Located{key, posOf(item.first)}, value, parent);
      } else {
        error(item.first, "unknown field '" + key + "' (expected one of: " + std::string(kFieldNamesHint) +
                              ", any, all, not)");
      }
    }
  }


 private:
  // `field: scalar` (equals), `field: [a, b]` (in) or `field: {op: value, ...}` (all hold).
  void parseFieldTests(const Located& field, const YAML::Node& value, ConditionSpec& parent) {
    ConditionSpec test{.kind = Kind::kTest, .pos = field.pos, .field = field};
    if (value.IsScalar()) {
      test.values.push_back({value.Scalar(), posOf(value)});
      parent.children.push_back(std::move(test));
    } else if (value.IsSequence()) {
      test.op = Op::kIn;
      parseValueList(value, test);
      parent.children.push_back(std::move(test));
    } else if (value.IsMap() && value.size() > 0) {
      for (const auto& item : value) {
        const std::string name = item.first.Scalar();
        std::optional<Op> op = parseOp(name);
        if (!op) {
          error(item.first, "unknown operator '" + name +
                                "' (expected one of: equals, in, prefix, regex, exists, gt, lt, "
                                "ge, le)");
          continue;
        }
        ConditionSpec one = test;
        one.op = *op;
        one.pos = posOf(item.first);
        if (*op == Op::kIn) {
          parseValueList(item.second, one);
        } else if (*op == Op::kExists) {
          std::optional<bool> b = boolean(item.second, "exists");
          one.values.push_back({b.value_or(true) ? "true" : "false", posOf(item.second)});
        } else if (auto s = scalar(item.second, "'" + name + "'")) {
          one.values.push_back(*s);
        }
        parent.children.push_back(std::move(one));
      }
    } else {
      error(value, "expected a value, a list or a mapping of operators for '" + field.text + "'");
    }
  }

  void parseValueList(const YAML::Node& node, ConditionSpec& test) {
    if (!node.IsSequence() || node.size() == 0) {
      error(node, "'in' needs a non-empty list of values");
      return;
    }
    for (const auto& element : node) {
      if (auto s = scalar(element, "a list value")) {
        test.values.push_back(*s);
      }
    }
  }

  void parseSet(const YAML::Node& node, SetSpec& set) {
    if (!node.IsMap()) {
      error(node, "'set' must be a mapping");
      return;
    }
    for (const auto& item : node) {
      const std::string key = item.first.Scalar();
      const YAML::Node& value = item.second;
      if (key == "type") set.type = scalar(value, "type");
      else if (key == "host") set.host = scalar(value, "host");
      else if (key == "ci") set.ci = scalar(value, "ci");
      else if (key == "state") set.state = scalar(value, "state");
      else if (key == "severity") set.severity = scalar(value, "severity");
      else if (key == "labels") parseSetLabels(value, set);
      else {
        error(item.first, "unknown key '" + key +
                              "' in set (expected one of: type, state, severity, host, ci, "
                              "labels)");
      }
    }
  }

  void parseAnnotate(const YAML::Node& node, RuleSpec& rule) {
    if (!node.IsMap()) {
      error(node, "'annotate' must be a mapping of label: value");
      return;
    }
    for (const auto& item : node) {
      Located name{item.first.Scalar(), posOf(item.first)};
      if (name.text.empty()) {
        error(item.first, "empty label name");
      } else if (auto s = scalar(item.second, "an annotation value")) {
        rule.annotate.emplace_back(std::move(name), std::move(*s));
      }
    }
  }

  void parseSetLabels(const YAML::Node& node, SetSpec& set) {
    if (!node.IsMap()) {
      error(node, "'labels' must be a mapping of name: value");
      return;
    }
    for (const auto& item : node) {
      Located name{item.first.Scalar(), posOf(item.first)};
      if (name.text.empty()) {
        error(item.first, "empty label name");
      } else if (item.second.IsNull()) {
        set.labels.emplace_back(std::move(name), std::nullopt);  // removes the label
      } else if (auto s = scalar(item.second, "a label value")) {
        set.labels.emplace_back(std::move(name), std::move(*s));
      }
    }
  }

  std::string file_;
  std::vector<RuleError>& errors_;
  bool failed_ = false;
};

}  // namespace

void parseRuleText(std::string_view text, std::string_view file, std::vector<RuleSpec>& rules,
                   std::vector<RuleError>& errors, std::optional<PriorityMatrix>& matrix) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    errors.push_back({std::string(file), posOf(e.mark), e.msg});
    return;
  }
  FileParser(file, errors).parseDocument(root, rules, matrix);
}

void parseCondition(const YAML::Node& node, std::string_view file, ConditionSpec& out,
                    std::vector<RuleError>& errors) {
  out.kind = Kind::kAll;
  out.pos = posOf(node);
  FileParser(file, errors).parseConditionMap(node, out);
}

void loadRuleFile(const std::string& path, std::vector<RuleSpec>& rules,
                  std::vector<RuleError>& errors, std::string& content,
                  std::optional<PriorityMatrix>& matrix) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back({path, {1, 1}, "cannot open file"});
    return;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  content += text;
  parseRuleText(text, path, rules, errors, matrix);
}

std::vector<std::string> expandRuleGlobs(const std::vector<std::string>& globs,
                                         const std::string& base_dir,
                                         std::vector<RuleError>& errors) {
  std::vector<std::string> missing;
  auto files = expandGlobs(globs, base_dir, missing);
  for (auto& m : missing) errors.push_back({std::move(m), {1, 1}, "cannot open file"});
  return files;
}

}  // namespace vigil::rules
