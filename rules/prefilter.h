// Prefilter: for one event, walks only the rules that can possibly match it, in rule order, so
// that a 200-rule set costs little more than one regex scan per event.
//
// Each rule lands in exactly one list, decided at compile time from its `match` (compiler.h):
//   - gated: the rule needs one of its message regexes to match. A regex anchored at the start
//     with a literal (`^%LINK-3-UPDOWN: …`, anchoredLiteralPrefix) joins the RE2::Set of the
//     regexes with that literal, which runs only when event.message begins with it (found by one
//     binary search over the sorted literals); the other regexes form one RE2::Set run on every
//     message. A DFA pass over event.message tells which gated rules are candidates, so noise
//     that begins with no rule's literal costs no regex work at all, however many rules there
//     are. When nothing matches (the common case) the passes allocate nothing. A literal that
//     begins only one regex gets no set: the message beginning with it makes that regex's rule a
//     candidate, and the rule's own match is the one scan of the message. The set of a literal
//     holds its patterns without ^ and literal, run on the message after the literal, unless one
//     of them may look back at the literal (^, \A, \b, \B).
//   - indexed: the rule needs `field: value` (equals; type preferred, then a label, host, ...).
//     Up to kMaxIndexes fields get a hash map value → rules; the event's value is looked up.
//   - always: everything else.
// The walk merges the sorted lists, so candidates come out in ascending rule index. When a
// matching rule with `continue: true` modifies the event, RuleSet calls refresh() so that the
// index lookups see the new values; rules never modify event.message, so the gated list stays.
// Thread-safety: immutable after construction; start()/refresh() are const (RE2::Set is
// thread-safe) and all per-event state lives in the caller's Walk and scratch vector.
#pragma once

#include <climits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <re2/set.h>

#include "daemon/event.h"
#include "rules/compiler.h"
#include "rules/field.h"

namespace vigil::rules {

class Prefilter {
 public:
  static constexpr int kEnd = INT_MAX;
  static constexpr size_t kMaxIndexes = 6;

  // The candidates for one event. Owned by the caller (on its stack).
  class Walk {
   public:
    // The next candidate rule index, ascending; kEnd when there are no more.
    int next();

   private:
    friend class Prefilter;
    void add(const int* begin, const int* end, int after);
    static constexpr size_t kLists = kMaxIndexes + 2;  // + gated hits + always
    const int* head_[kLists] = {};
    const int* end_[kLists] = {};
    size_t count_ = 0;  // lists in use, none of them empty
  };

  // REQUIRES: `rules` outlives the Prefilter (it keeps pointers to their regexes).
  explicit Prefilter(const std::vector<CompiledRule>& rules);

  // Starts the walk for `event`. `hits` is scratch reused between calls on one thread; it backs
  // the walk's list of gated rules and must not be touched until the walk is done.
  void start(const Event& event, std::vector<int>& hits, Walk& walk) const;

  // After the rule at index `current` modified `event`: restarts the walk after `current` with
  // fresh index lookups. `hits` is the vector given to start().
  void refresh(const Event& event, const std::vector<int>& hits, int current, Walk& walk) const;

  // For tests and the benchmark: how the rules were distributed.
  size_t gatedCount() const { return gated_.size(); }
  size_t indexedCount() const { return indexed_count_; }
  size_t alwaysCount() const { return always_.size(); }
  // Distinct literals that gated regexes are anchored with (each has its own RE2::Set).
  size_t prefixGroupCount() const { return groups_.size(); }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct FieldIndex {
    FieldRef field;
    std::unordered_map<std::string, std::vector<int>, StringHash, std::equal_to<>> by_value;
  };
  // The gated regexes that start with one literal, or those that start with none.
  struct GateSet {
    std::unique_ptr<RE2::Set> set;  // null for a prefix group of one regex
    std::vector<int> rule;          // pattern index → rule index
    size_t skip = 0;                // bytes of the text (the group's literal) the set does not see
  };
  struct PrefixGroup {
    std::string prefix;
    int parent = -1;  // the group of the longest other prefix that begins this one
    GateSet gates;
  };
  void build(const Event& event, const std::vector<int>& hits, int after, Walk& walk) const;
  // The group of the longest prefix `text` begins with (the others it begins with are that
  // group's parents); -1 for none.
  int longestPrefixGroup(std::string_view text) const;
  // Adds the rules of `gates` whose regex matches `text` to `hits` (a group without a set: its
  // rule); false when the DFA gave up.
  static bool collectHits(const GateSet& gates, std::string_view text, bool probe_first, std::vector<int>& hits);

  std::vector<int> always_;
  std::vector<int> gated_;
  std::vector<FieldIndex> indexes_;
  size_t indexed_count_ = 0;
  GateSet unprefixed_;               // its set is null when every gated regex has a prefix
  std::vector<PrefixGroup> groups_;  // sorted by prefix; empty when nothing is gated
  std::vector<uint64_t> heads_;      // per group, headOf(prefix): the search's first comparison
};

}  // namespace vigil::rules
