#include "rules/rule_set.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "rules/yaml_loader.h"

namespace vigil::rules {
namespace {

// Per-thread scratch for evaluate(): reused between events so matching allocates nothing once
// the strings have grown to size.
struct Scratch {
  std::vector<int> hits;               // prefilter: gated rules whose regex matched
  std::vector<std::string> captures;   // captures copied out of the event before `set:`
  std::string value;                   // a rendered `set:` value
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

constexpr size_t kMaxDefaultTitle = 200;

std::string hashHex(std::string_view data) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : data) {
    h = (h ^ c) * 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Orders errors by file (in load order), then position, so the report reads top to bottom.
Status joinErrors(std::vector<RuleError> errors, const std::vector<std::string>& files) {
  auto rank = [&](const std::string& f) {
    auto it = std::find(files.begin(), files.end(), f);
    return it - files.begin();
  };
  std::stable_sort(errors.begin(), errors.end(), [&](const RuleError& a, const RuleError& b) {
    const auto ra = rank(a.file);
    const auto rb = rank(b.file);
    if (ra != rb) return ra < rb;
    if (a.pos.line != b.pos.line) return a.pos.line < b.pos.line;
    return a.pos.column < b.pos.column;
  });
  std::string text;
  for (const RuleError& e : errors) {
    text += text.empty() ? "" : "\n";
    text += e.toString();
  }
  return Status::invalidArgument(std::move(text));
}

// Appends at most `max` bytes of `text`, not cutting a UTF-8 sequence in two.
void appendTruncated(std::string& out, std::string_view text, size_t max) {
  if (text.size() > max) {
    size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    text = text.substr(0, n);
  }
  out += text;
}

// Urgency when no rule names one: critical/major high, minor/warning medium, info low.
uint8_t urgencyOf(Severity severity) {
  switch (severity) {
    case Severity::kCritical:
    case Severity::kMajor: return 0;
    case Severity::kMinor:
    case Severity::kWarning: return 1;
    case Severity::kInfo: return 2;
  }
  return 2;
}

void defaultKey(const Event& event, std::string& out) {
  out += event.host.empty() ? event.ci : event.host;
  out += '/';
  out += event.type.empty() ? std::string_view("event") : std::string_view(event.type);
}

void defaultTitle(const Event& event, std::string& out) {
  const std::string& where = event.host.empty() ? event.ci : event.host;
  if (!event.type.empty()) {
    out += event.type;
    out += " problem on ";
    out += where;
  } else if (!event.message.empty()) {
    appendTruncated(out, event.message, kMaxDefaultTitle);
  } else {
    out += "event on ";
    out += where;
  }
}

}  // namespace

Result<std::shared_ptr<const RuleSet>> RuleSet::loadFiles(const std::vector<std::string>& globs,
                                                          const std::string& base_dir) {
  std::vector<RuleError> errors;
  const std::vector<std::string> files = expandRuleGlobs(globs, base_dir, errors);
  std::vector<RuleSpec> specs;
  std::string content;
  std::optional<PriorityMatrix> matrix;
  for (const std::string& file : files) {
    loadRuleFile(file, specs, errors, content, matrix);
    content += '\0';  // so that moving bytes between files changes the version
  }
  if (!errors.empty()) {
    // Compile what parsed anyway, to report its errors in the same pass.
    compileRules(specs, errors);
    return fail(joinErrors(std::move(errors), files));
  }
  auto set = compile(specs, hashHex(content), std::move(matrix));
  if (!set) {
    return set;
  }
  const_cast<RuleSet&>(**set).files_ = files;  // still exclusively ours
  return set;
}

Result<std::shared_ptr<const RuleSet>> RuleSet::loadString(std::string_view yaml,
                                                           std::string_view file_name) {
  std::vector<RuleError> errors;
  std::vector<RuleSpec> specs;
  std::optional<PriorityMatrix> matrix;
  parseRuleText(yaml, file_name, specs, errors, matrix);
  if (!errors.empty()) {
    compileRules(specs, errors);
    return fail(joinErrors(std::move(errors), {}));
  }
  return compile(specs, hashHex(yaml), std::move(matrix));
}

Result<std::shared_ptr<const RuleSet>> RuleSet::compile(const std::vector<RuleSpec>& specs,
                                                        std::string version,
                                                        std::optional<PriorityMatrix> matrix) {
  std::vector<RuleError> errors;
  std::shared_ptr<RuleSet> set(new RuleSet());
  set->rules_ = compileRules(specs, errors);
  if (!errors.empty()) {
    std::vector<std::string> files;
    for (const RuleSpec& s : specs) {
      if (std::find(files.begin(), files.end(), s.file) == files.end()) files.push_back(s.file);
    }
    return fail(joinErrors(std::move(errors), files));
  }
  set->prefilter_ = std::make_unique<Prefilter>(set->rules_);
  set->version_ = std::move(version);
  if (matrix) set->matrix_ = std::move(*matrix);
  set->counters_ = std::make_unique<RuleCounters[]>(set->rules_.size());
  return std::shared_ptr<const RuleSet>(std::move(set));
}

void RuleSet::evaluate(Event& event, const cmdb::ConfigurationItem* ci, Decision& out) const {
  thread_local uint32_t calls = 0;
  if (++calls % EvaluationTiming::kSampleEvery != 0) {
    evaluateRules(event, ci, out);
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  evaluateRules(event, ci, out);
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  const double seconds = static_cast<double>(ns) * 1e-9;
  size_t bucket = 0;
  while (bucket < EvaluationTiming::kBounds.size() && seconds > EvaluationTiming::kBounds[bucket]) ++bucket;
  timing_.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  timing_.sum_ns.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
}

void RuleSet::evaluateRules(Event& event, const cmdb::ConfigurationItem* ci, Decision& out) const {
  out.reset();
  out.rule_set_version = version_;
  Scratch& s = scratch();
  Prefilter::Walk walk;
  prefilter_->start(event, s.hits, walk);
  MatchContext ctx;
  ctx.ci = ci;
  bool has_key = false;
  bool has_title = false;
  std::optional<uint8_t> urgency;
  for (int i = walk.next(); i != Prefilter::kEnd; i = walk.next()) {
    const CompiledRule& rule = rules_[static_cast<size_t>(i)];
    RuleCounters& counters = counters_[static_cast<size_t>(i)];
    counters.evaluations.fetch_add(1, std::memory_order_relaxed);
    ctx.present = 0;
    if (!rule.match.matches(event, ctx)) {
      continue;
    }
    counters.matches.fetch_add(1, std::memory_order_relaxed);
    out.matched.push_back(static_cast<uint32_t>(i));
    if (rule.action == Action::kDrop) {
      const uint32_t dropped_by = static_cast<uint32_t>(i);
      out.reset();
      out.rule_set_version = version_;
      out.matched.push_back(dropped_by);
      out.action = Action::kDrop;
      out.rule = rule.name;
      return;
    }
    // Copy the captures out first: `set:` may modify the strings they point into.
    CaptureValues captures;
    captures.ci = ci;
    if (ctx.present != 0) {
      if (s.captures.size() < rule.captures.size()) s.captures.resize(rule.captures.size());
      for (size_t slot = 0; slot < rule.captures.size(); ++slot) {
        if ((ctx.present >> slot) & 1u) s.captures[slot].assign(ctx.captures[slot]);
      }
      captures.values = s.captures.data();
      captures.present = ctx.present;
    }
    if (rule.set_state) event.state = *rule.set_state;
    if (rule.set_severity) event.severity = *rule.set_severity;
    for (const CompiledRule::Assign& assign : rule.assigns) {
      if (!assign.value) {
        event.labels.erase(assign.label);
        continue;
      }
      s.value.clear();
      assign.value->render(event, captures, s.value);
      switch (assign.target) {
        case FieldId::kType: event.type.assign(s.value); break;
        case FieldId::kHost: event.host.assign(s.value); break;
        case FieldId::kCi: event.ci.assign(s.value); break;
        default: event.labels.set(assign.label, s.value); break;
      }
    }
    if (rule.modifies_fields && rule.continue_) {
      prefilter_->refresh(event, s.hits, i, walk);
    }
    if (rule.key) {
      out.key.clear();
      rule.key->render(event, captures, out.key);
      has_key = true;
    }
    if (rule.title) {
      out.title.clear();
      rule.title->render(event, captures, out.title);
      has_title = true;
    }
    if (rule.description) {
      out.description.clear();
      rule.description->render(event, captures, out.description);
    }
    if (rule.assign) {
      out.assignment_group.clear();
      rule.assign->render(event, captures, out.assignment_group);
    }
    for (const auto& [name, value] : rule.annotate) {
      s.value.clear();
      value.render(event, captures, s.value);
      out.annotate(name, s.value);
    }
    if (rule.urgency) urgency = rule.urgency;
    if (rule.priority != 0) out.priority = rule.priority;
    if (rule.names_decision) {
      out.rule = rule.name;
    }
    if (rule.correlation) {
      out.correlation = rule.correlation.get();
      if (rule.correlation->group_by) {
        out.group_key.clear();
        rule.correlation->group_by->render(event, captures, out.group_key);
      }
    }
    if (!rule.continue_) {
      break;
    }
  }
  // The default incident step.
  switch (event.state) {
    case EventState::kProblem: out.action = Action::kOpen; break;
    case EventState::kOk: out.action = Action::kResolve; break;
    case EventState::kNone: return;
  }
  if (!has_key) defaultKey(event, out.key);
  if (!has_title) defaultTitle(event, out.title);
  if (out.priority == 0 && (ci != nullptr || urgency)) {
    out.priority = matrix_.priority(ci != nullptr ? ci->criticality : 3, urgency.value_or(urgencyOf(event.severity)));
  }
}

}  // namespace vigil::rules
