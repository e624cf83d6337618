#include "rules/prefilter.h"

#include <algorithm>

namespace vigil::rules {
namespace {

// The DFA of a large set needs more than RE2's default 8 MiB before it would fail.
constexpr int64_t kSetMaxMem = 64 << 20;

bool sameField(const FieldRef& a, const FieldRef& b) {
  return a.id == b.id && a.label == b.label;
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
  auto set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
  bool set_ok = true;
  for (size_t i = 0; i < rules.size(); ++i) {
    const CompiledRule& rule = rules[i];
    const int index = static_cast<int>(i);
    if (!rule.message_gate.empty()) {
      // The regexes were compiled with the same default options, so the set agrees with them.
      for (const RE2* re : rule.message_gate) {
        set_ok = set_ok && set->Add(re->pattern(), nullptr) >= 0;
        set_rule_.push_back(index);
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
  if (set_ok && !set_rule_.empty() && set->Compile()) {
    set_ = std::move(set);
  } else {
    // No set (nothing gated, or it failed to build): every gated rule is always a candidate.
    always_.insert(always_.end(), gated_.begin(), gated_.end());
    std::sort(always_.begin(), always_.end());
    gated_.clear();
    set_rule_.clear();
  }
}

void Prefilter::start(const Event& event, std::vector<int>& hits, Walk& walk) const {
  hits.clear();
  if (set_) {
    const re2::StringPiece text(event.message.data(), event.message.size());
    RE2::Set::ErrorInfo info{};
    if (set_->Match(text, nullptr, &info)) {
      set_->Match(text, &hits, &info);
      for (int& h : hits) {
        h = set_rule_[static_cast<size_t>(h)];
      }
      std::sort(hits.begin(), hits.end());
      hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
    } else if (info.kind != RE2::Set::kNoError) {
      hits = gated_;  // the DFA gave up: try every gated rule rather than miss one
    }
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
