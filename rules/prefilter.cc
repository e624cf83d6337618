#include "rules/prefilter.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "rules/matcher.h"

namespace vigil::rules {
namespace {

// The DFA of a large set needs more than RE2's default 8 MiB before it would fail.
constexpr int64_t kSetMaxMem = 64 << 20;

bool sameField(const FieldRef& a, const FieldRef& b) {
  return a.id == b.id && a.label == b.label;
}

// Whether `pattern` may test the text before where it starts matching (conservative: a `^` in a
// class counts too). Such a pattern cannot be run on the text after its literal alone.
bool mayLookBehind(std::string_view pattern) {
  return pattern.find('^') != std::string_view::npos || pattern.find("\\A") != std::string_view::npos ||
         pattern.find("\\b") != std::string_view::npos || pattern.find("\\B") != std::string_view::npos;
}

// The first eight bytes of `s` as a big-endian number, zero-padded. Two different heads order
// their strings as their comparison as strings would (a shorter string's padding sorts it before
// any longer one with the same bytes); equal heads say nothing.
uint64_t headOf(std::string_view s) {
  unsigned char bytes[8] = {};
  if (!s.empty()) std::memcpy(bytes, s.data(), std::min<size_t>(sizeof bytes, s.size()));
  uint64_t head = 0;
  for (unsigned char b : bytes) head = (head << 8) | b;
  return head;
}

}  // namespace

int Prefilter::Walk::next() {
  if (count_ == 0) {
    return kEnd;
  }
  size_t list = 0;
  for (size_t i = 1; i < count_; ++i) {
    if (*head_[i] < *head_[list]) {
      list = i;
    }
  }
  const int best = *head_[list]++;
  if (head_[list] == end_[list]) {  // drop the exhausted list
    --count_;
    head_[list] = head_[count_];
    end_[list] = end_[count_];
  }
  return best;
}

void Prefilter::Walk::add(const int* begin, const int* end, int after) {
  begin = std::upper_bound(begin, end, after);
  if (begin != end) {
    head_[count_] = begin;
    end_[count_] = end;
    ++count_;
  }
}

Prefilter::Prefilter(const std::vector<CompiledRule>& rules) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kSetMaxMem);
  // The regexes were compiled with the same default options, so the sets agree with them.
  auto newSet = [&](RE2::Anchor anchor) { return std::make_unique<RE2::Set>(options, anchor); };
  unprefixed_.set = newSet(RE2::UNANCHORED);
  struct Gate {
    const RE2* re;
    std::string_view rest;  // after the literal
    int rule;
  };
  std::map<std::string, std::vector<Gate>> by_prefix;
  bool sets_ok = true;
  for (size_t i = 0; i < rules.size(); ++i) {
    const CompiledRule& rule = rules[i];
    const int index = static_cast<int>(i);
    if (!rule.message_gate.empty()) {
      for (const RE2* re : rule.message_gate) {
        AnchoredLiteral split = splitAnchoredLiteral(re->pattern());
        if (!split.literal.empty()) {
          by_prefix[std::move(split.literal)].push_back({re, split.rest, index});
          continue;
        }
        sets_ok = sets_ok && unprefixed_.set->Add(re->pattern(), nullptr) >= 0;
        unprefixed_.rule.push_back(index);
      }
      gated_.push_back(index);
      continue;
    }
    if (rule.required_equal) {
      // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
      const auto& field = rule.required_equal->first;
      const auto& value = rule.required_equal->second;
      auto it = std::find_if(indexes_.begin(), indexes_.end(),
                             [&](const FieldIndex& fi) { return sameField(fi.field, field); });
      if (it == indexes_.end() && indexes_.size() < kMaxIndexes) {
        it = indexes_.insert(indexes_.end(), FieldIndex{field, {}});
      }
      if (it != indexes_.end()) {
        it->by_value[value].push_back(index);
        ++indexed_count_;
        continue;
      }
    }
    always_.push_back(index);
  }
  if (unprefixed_.rule.empty()) {
    unprefixed_.set.reset();
  } else {
    sets_ok = sets_ok && unprefixed_.set->Compile();
  }
  for (auto& [prefix, gates] : by_prefix) {  // std::map: sorted by prefix
    PrefixGroup& group = groups_.emplace_back();
    group.prefix = prefix;
    heads_.push_back(headOf(prefix));
    for (const Gate& gate : gates) group.gates.rule.push_back(gate.rule);
    // A group of one regex gets no set: the rule's own match scans the message anyway, a set of
    // its one regex would scan it twice.
    if (gates.size() > 1) {
      // The message begins with the literal: when no pattern looks back at it, the set runs on
      // the rest of the message only (the patterns without ^ and literal).
      const bool past_literal = std::none_of(gates.begin(), gates.end(), [](const Gate& g) { return mayLookBehind(g.rest); });
      // Every pattern begins with ^ or runs where the literal ends: anchoring the set changes no
      // answer and lets the DFA stop at the first byte no pattern can take.
      group.gates.set = newSet(RE2::ANCHOR_START);
      group.gates.skip = past_literal ? prefix.size() : 0;
      for (const Gate& gate : gates) {
        sets_ok = sets_ok && group.gates.set->Add(past_literal ? gate.rest : gate.re->pattern(), nullptr) >= 0;
      }
      sets_ok = sets_ok && group.gates.set->Compile();
    }
    // The longest earlier prefix that begins this one is on the parent chain of the one just
    // before it (any string between a prefix of P and P begins with that prefix).
    int parent = static_cast<int>(groups_.size()) - 2;
    while (parent >= 0 && !group.prefix.starts_with(groups_[static_cast<size_t>(parent)].prefix)) {
      parent = groups_[static_cast<size_t>(parent)].parent;
    }
    group.parent = parent;
  }
  if (!sets_ok) {
    // A set failed to build: every gated rule is always a candidate.
    always_.insert(always_.end(), gated_.begin(), gated_.end());
    std::sort(always_.begin(), always_.end());
    gated_.clear();
    unprefixed_ = {};
    groups_.clear();
    heads_.clear();
  }
}

int Prefilter::longestPrefixGroup(std::string_view text) const {
  // The last prefix not above the text: every prefix the text begins with begins it too, so the
  // longest one is on its parent chain.
  // An upper bound by hand: most steps compare two numbers, not two strings in memory elsewhere.
  const uint64_t head = headOf(text);
  size_t first = 0;
  for (size_t count = groups_.size(); count > 0;) {
    const size_t half = count / 2;
    const size_t mid = first + half;
    const bool text_below = head != heads_[mid] ? head < heads_[mid] : text < groups_[mid].prefix;
    if (text_below) {
      count = half;
    } else {
      first = mid + 1;
      count -= half + 1;
    }
  }
  int group = static_cast<int>(first) - 1;
  while (group >= 0 && !text.starts_with(groups_[static_cast<size_t>(group)].prefix)) {
    group = groups_[static_cast<size_t>(group)].parent;
  }
  return group;
}

bool Prefilter::collectHits(const GateSet& gates, std::string_view text, bool probe_first,
                            std::vector<int>& hits) {
  if (!gates.set) {  // a group of one regex: its rule is a candidate
    hits.push_back(gates.rule.front());
    return true;
  }
  thread_local std::vector<int> matched;
  const re2::StringPiece piece(text.data() + gates.skip, text.size() - gates.skip);
  RE2::Set::ErrorInfo info{};
  // Collecting the matches allocates; a probe first keeps a miss allocation-free.
  const bool any = probe_first ? gates.set->Match(piece, nullptr, &info) : true;
  if (any && gates.set->Match(piece, &matched, &info)) {
    for (int m : matched) hits.push_back(gates.rule[static_cast<size_t>(m)]);
  }
  return info.kind == RE2::Set::kNoError;
}

void Prefilter::start(const Event& event, std::vector<int>& hits, Walk& walk) const {
  hits.clear();
  const std::string_view message = event.message;
  bool complete = !unprefixed_.set || collectHits(unprefixed_, message, /*probe_first=*/true, hits);
  // A message that begins with a group's literal mostly matches one of its regexes: no probe.
  for (int g = longestPrefixGroup(message); g >= 0 && complete; g = groups_[static_cast<size_t>(g)].parent) {
    complete = collectHits(groups_[static_cast<size_t>(g)].gates, message, /*probe_first=*/false, hits);
  }
  if (!complete) {
    hits = gated_;  // a DFA gave up: try every gated rule rather than miss one
  } else if (hits.size() > 1) {
    std::sort(hits.begin(), hits.end());
    hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
  }
  build(event, hits, -1, walk);
}

void Prefilter::refresh(const Event& event, const std::vector<int>& hits, int current,
                        Walk& walk) const {
  build(event, hits, current, walk);
}

void Prefilter::build(const Event& event, const std::vector<int>& hits, int after,
                      Walk& walk) const {
  walk.count_ = 0;
  walk.add(hits.data(), hits.data() + hits.size(), after);
  walk.add(always_.data(), always_.data() + always_.size(), after);
  for (const FieldIndex& index : indexes_) {
    std::string_view value;
    if (!readField(event, nullptr, index.field, value)) {
      continue;
    }
    auto it = index.by_value.find(value);
    if (it != index.by_value.end()) {
      const std::vector<int>& list = it->second;
      walk.add(list.data(), list.data() + list.size(), after);
    }
  }
}

}  // namespace vigil::rules
