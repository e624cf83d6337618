// evaluate() must not allocate when no rule matches. Counts operator new in this binary.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "tests/rules/test_util.h"

namespace {
thread_local long g_allocations = 0;
}  // namespace

void* operator new(size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
// The nothrow forms too (simdjson allocates with them): otherwise the library's operator new
// allocates and ours frees with free(), which ASan reports as a mismatch.
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace vigil::rules {
namespace {

TEST(RuleSetEvaluate, AllocatesNothingWhenNoRuleMatches) {
  auto set = testing::mustLoad(R"(
rules:
  - name: regex
    match: {message: {regex: 'Interface (?P<interface>\S+) down'}}
    set: {state: problem, labels: {interface: '{{interface}}'}}
  - name: typed
    match: {type: bgp, severity: {ge: major}}
    set: {state: problem}
  - name: label
    match: {labels.app: rpd}
    set: {state: problem}
  - name: other
    match: {host: {prefix: core-}, labels.x: {in: [a, b]}}
    set: {state: problem}
)");
  ASSERT_NE(set, nullptr);
  Event e = testing::makeEvent({.host = "edge-1", .type = "ospf",
                                .message = "%SYS-5-CONFIG_I: Configured from console by admin",
                                .labels = {{"app", "sshd"}, {"x", "c"}}});
  Decision d;
  set->evaluate(e, d);  // warm up the thread's scratch
  const long before = g_allocations;
  ASSERT_GT(before, 0);  // the counter works: loading the rules allocated
  for (int i = 0; i < 1000; ++i) {
    set->evaluate(e, d);
  }
  EXPECT_EQ(g_allocations - before, 0);
  EXPECT_EQ(d.action, Action::kNone);
}

}  // namespace
}  // namespace vigil::rules
