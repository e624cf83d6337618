#include "rules/compiler.h"

#include <charconv>
#include <unordered_map>

namespace vigil::rules {
namespace {

using Op = ConditionSpec::Op;

constexpr std::string_view kSeverityHint = " (expected critical, major, minor, warning or info)";
constexpr std::string_view kStateHint = " (expected problem, ok or none)";

std::optional<EventState> parseState(std::string_view name) {
  if (name == "none") {
    return EventState::kNone;
  }
  return parseEventState(name);
}

std::string posString(const std::string& file, Position pos) {
  return file + ':' + std::to_string(pos.line) + ':' + std::to_string(pos.column);
}

// Compiles one rule; errors go to `errors` and clear `ok_`.
class RuleCompiler {
 public:
  RuleCompiler(const RuleSpec& spec, std::vector<RuleError>& errors)
      : spec_(spec), errors_(errors) {}

  bool compile(CompiledRule& rule) {
    rule.name = spec_.name.text;
    rule.file = spec_.file;
    rule.pos = spec_.pos;
    // The match first: its regexes define the captures that templates may use.
    compileCondition(spec_.match, rule.match, rule.captures);
    compileSet(rule);
    rule.key = compileTemplate(spec_.key, rule.captures);
    rule.title = compileTemplate(spec_.title, rule.captures);
    rule.description = compileTemplate(spec_.description, rule.captures);
    rule.assign = compileTemplate(spec_.assign, rule.captures);
    compileRouting(rule);
    rule.action = spec_.action;
    rule.continue_ = spec_.continue_;
    compileCorrelation(rule);
    rule.names_decision = !rule.continue_ || rule.action == Action::kDrop || rule.key ||
                          rule.title || rule.set_state || rule.correlation || rule.description || rule.assign ||
                          rule.urgency || rule.priority != 0 || !rule.annotate.empty();
    rule.modifies_fields = !rule.assigns.empty();
    collectGate(rule.match, rule.message_gate);
    int best = -1;
    findRequiredEqual(rule.match, rule.required_equal, best);
    return ok_;
  }

 private:
  void error(Position pos, std::string message) {
    errors_.push_back({spec_.file, pos, std::move(message)});
    ok_ = false;
  }

  void compileCondition(const ConditionSpec& spec, Condition& out, CaptureNames& captures) {
    switch (spec.kind) {
      case ConditionSpec::Kind::kAll: out.kind = Condition::Kind::kAll; break;
      case ConditionSpec::Kind::kAny: out.kind = Condition::Kind::kAny; break;
      case ConditionSpec::Kind::kNot: out.kind = Condition::Kind::kNot; break;
      case ConditionSpec::Kind::kTest: compileTest(spec, out, captures); return;
    }
    if (out.kind == Condition::Kind::kNot && spec.children.size() != 1) {
      error(spec.pos, "'not' takes exactly one condition");
      return;
    }
    out.children.resize(spec.children.size());
    for (size_t i = 0; i < spec.children.size(); ++i) {
      compileCondition(spec.children[i], out.children[i], captures);
    }
  }

  void compileTest(const ConditionSpec& spec, Condition& out, CaptureNames& captures) {
    out.kind = Condition::Kind::kTest;
    out.op = spec.op;
    std::optional<FieldRef> field = parseFieldName(spec.field.text);
    if (!field) {
      error(spec.field.pos, "unknown field '" + spec.field.text + "'");
      return;
    }
    out.field = std::move(*field);
    if (spec.values.empty() || (spec.op != Op::kIn && spec.values.size() != 1)) {
      error(spec.pos, "expected one value for '" + spec.field.text + "'");
      return;
    }
    const Located& value = spec.values.front();
    const bool is_severity = out.field.id == FieldId::kSeverity;
    const bool is_state = out.field.id == FieldId::kState;
    switch (spec.op) {
      case Op::kExists:
        out.exists = value.text == "true";
        return;
      case Op::kEquals:
      case Op::kIn:
        if (is_severity || is_state) {
          out.use_mask = true;
          for (const Located& v : spec.values) {
            out.mask |= enumMask(v, is_severity);
          }
        } else if (spec.op == Op::kEquals) {
          out.text = value.text;
        } else {
          for (const Located& v : spec.values) out.texts.push_back(v.text);
        }
        return;
      case Op::kPrefix:
        out.text = value.text;
        return;
      case Op::kRegex:
        compileRegex(value, out, captures);
        return;
      case Op::kGt:
      case Op::kLt:
      case Op::kGe:
      case Op::kLe:
        compileComparison(spec, value, out);
        return;
    }
  }

  uint32_t enumMask(const Located& v, bool is_severity) {
    if (is_severity) {
      if (std::optional<Severity> s = parseSeverity(v.text)) return 1u << static_cast<unsigned>(*s);
      error(v.pos, "unknown severity '" + v.text + "'" + std::string(kSeverityHint));
    } else {
      if (std::optional<EventState> s = parseState(v.text)) return 1u << static_cast<unsigned>(*s);
      error(v.pos, "unknown state '" + v.text + "'" + std::string(kStateHint));
    }
    return 0;
  }

  void compileRegex(const Located& value, Condition& out, CaptureNames& captures) {
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_unique<RE2>(value.text, options);
    if (!re->ok()) {
      error(value.pos, "invalid regex '" + value.text + "': " + re->error());
      return;
    }
    for (const auto& [name, group] : re->NamedCapturingGroups()) {
      const int slot = captures.add(name);
      if (slot < 0 || group >= Condition::kMaxSubmatches) {
        error(value.pos, "too many captures in the rule's regexes (at most " +
                             std::to_string(CaptureNames::kMaxCaptures) + " named groups, group number below " +
                             std::to_string(Condition::kMaxSubmatches) + ")");
        return;
      }
      out.capture_slots.emplace_back(group, slot);
      out.submatches = std::max(out.submatches, group + 1);
    }
    if (out.submatches > 0) out.literal_prefix = requiredLiteralPrefix(value.text);
    out.regex = std::move(re);
  }

  void compileComparison(const ConditionSpec& spec, const Located& value, Condition& out) {
    if (out.field.id == FieldId::kState) {
      error(spec.pos, "state cannot be compared with gt/lt/ge/le; use equals or in");
    } else if (out.field.id == FieldId::kSeverity) {
      if (std::optional<Severity> s = parseSeverity(value.text)) {
        out.number = severityRank(*s);
      } else {
        error(value.pos, "unknown severity '" + value.text + "'" + std::string(kSeverityHint));
      }
    } else {
      const std::string& t = value.text;
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out.number);
      if (ec != std::errc() || ptr != t.data() + t.size()) {
        error(value.pos, "expected a number, got '" + t + "'");
      }
    }
  }

  std::optional<Template> compileTemplate(const std::optional<Located>& text,
                                          const CaptureNames& captures) {
    if (!text) {
      return std::nullopt;
    }
    Result<Template> t = Template::compile(text->text, captures);
    if (!t) {
      error(text->pos, t.error().message());
      return std::nullopt;
    }
    return std::move(*t);
  }

  void compileCorrelation(CompiledRule& rule) {
    if (!spec_.correlation) return;
    auto c = std::make_shared<Correlation>();
    c->spec = *spec_.correlation;
    c->rule = rule.name;
    if (rule.action == Action::kDrop) {
      error(c->spec.pos, "a rule with 'action: drop' cannot correlate");
    }
    if (c->spec.group_by) {
      c->group_by = compileTemplate(c->spec.group_by, rule.captures);
    }
    if (c->spec.primitive == Primitive::kHeartbeat && !spec_.key) {
      error(c->spec.pos, "a heartbeat needs a 'key' (what is expected to report)");
    }
    describeCorrelation(*c);
    rule.correlation = std::move(c);
  }

  void compileRouting(CompiledRule& rule) {
    if (spec_.urgency) {
      static constexpr std::string_view kUrgencies[] = {"high", "medium", "low"};
      for (uint8_t u = 0; u < 3; ++u) {
        if (spec_.urgency->text == kUrgencies[u]) rule.urgency = u;
      }
      if (!rule.urgency) {
        error(spec_.urgency->pos, "unknown urgency '" + spec_.urgency->text + "' (expected high, medium or low)");
      }
    }
    if (spec_.priority) {
      const std::string& p = spec_.priority->text;
      if (p.size() == 2 && (p[0] == 'P' || p[0] == 'p') && p[1] >= '1' && p[1] <= '5') {
        rule.priority = static_cast<uint8_t>(p[1] - '0');
      } else {
        error(spec_.priority->pos, "unknown priority '" + p + "' (expected P1, P2, P3, P4 or P5)");
      }
    }
    for (const auto& [name, value] : spec_.annotate) {
      if (std::optional<Template> t = compileTemplate(value, rule.captures)) {
        rule.annotate.emplace_back(name.text, std::move(*t));
      }
    }
  }

  void compileSet(CompiledRule& rule) {
    const SetSpec& set = spec_.set;
    if (set.state) {
      if (std::optional<EventState> s = parseState(set.state->text)) {
        rule.set_state = *s;
      } else {
        error(set.state->pos, "unknown state '" + set.state->text + "'" + std::string(kStateHint));
      }
    }
    if (set.severity) {
      if (std::optional<Severity> s = parseSeverity(set.severity->text)) {
        rule.set_severity = *s;
      } else {
        error(set.severity->pos,
              "unknown severity '" + set.severity->text + "'" + std::string(kSeverityHint));
      }
    }
    const std::pair<FieldId, const std::optional<Located>*> fields[] = {
        {FieldId::kType, &set.type}, {FieldId::kHost, &set.host}, {FieldId::kCi, &set.ci}};
    for (const auto& [id, located] : fields) {
      if (std::optional<Template> t = compileTemplate(*located, rule.captures)) {
        rule.assigns.push_back({id, {}, std::move(t)});
      }
    }
    for (const auto& [name, value] : set.labels) {
      CompiledRule::Assign assign{FieldId::kLabel, name.text, std::nullopt};
      if (value) {
        assign.value = compileTemplate(value, rule.captures);
        if (!assign.value) continue;
      }
      rule.assigns.push_back(std::move(assign));
    }
  }

  // The regexes of which at least one must match event.message for `c` to hold.
  static bool collectGate(const Condition& c, std::vector<const RE2*>& gate) {
    switch (c.kind) {
      case Condition::Kind::kTest:
        if (c.op == Op::kRegex && c.field.id == FieldId::kMessage && c.regex) {
          gate.push_back(c.regex.get());
          return true;
        }
        return false;
      case Condition::Kind::kAll:
        for (const Condition& child : c.children) {
          if (collectGate(child, gate)) return true;
        }
        return false;
      case Condition::Kind::kAny: {
        std::vector<const RE2*> all;
        for (const Condition& child : c.children) {
          if (!collectGate(child, all)) return false;
        }
        gate.insert(gate.end(), all.begin(), all.end());
        return !all.empty();
      }
      case Condition::Kind::kNot:
        return false;
    }
    return false;
  }

  // Picks the most selective `field: value` test that must hold: type, then a label, then
  // host or ci, then anything else (source has few distinct values).
  static void findRequiredEqual(const Condition& c,
                                std::optional<std::pair<FieldRef, std::string>>& out, int& best) {
    for (const Condition& child : c.children) {
      if (child.kind == Condition::Kind::kAll) {
        findRequiredEqual(child, out, best);
        continue;
      }
      if (child.kind != Condition::Kind::kTest || child.op != Op::kEquals || child.use_mask ||
          isCiAttribute(child.field.id)) {
        continue;  // the prefilter reads the event only
      }
      int score = 0;
      switch (child.field.id) {
        case FieldId::kType: score = 4; break;
        case FieldId::kLabel: score = 3; break;
        case FieldId::kHost:
        case FieldId::kCi: score = 2; break;
        default: score = 1; break;
      }
      if (score > best) {
        best = score;
        out.emplace(child.field, child.text);
      }
    }
  }

  const RuleSpec& spec_;
  std::vector<RuleError>& errors_;
  bool ok_ = true;
};

}  // namespace

std::vector<CompiledRule> compileRules(const std::vector<RuleSpec>& specs,
                                       std::vector<RuleError>& errors) {
  std::vector<CompiledRule> rules;
  rules.reserve(specs.size());
  std::unordered_map<std::string, const RuleSpec*> names;
  for (const RuleSpec& spec : specs) {
    auto [it, inserted] = names.emplace(spec.name.text, &spec);
    if (!inserted) {
      errors.push_back({spec.file, spec.name.pos,
                        "duplicate rule name '" + spec.name.text + "' (first defined at " +
                            posString(it->second->file, it->second->name.pos) + ")"});
    }
    CompiledRule rule;
    RuleCompiler(spec, errors).compile(rule);
    rules.push_back(std::move(rule));
  }
  return rules;
}

}  // namespace vigil::rules
