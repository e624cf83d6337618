// vigild's built-in jemalloc options (daemon/main.cc): in effect, and MALLOC_CONF still overrides
// them. jemalloc prints its options at exit with stats_print.
#include <gtest/gtest.h>

#include "tests/support/process.h"
#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

std::string jemallocOptions(const std::string& malloc_conf) {
  std::string out;
  EXPECT_EQ(run({"env", "MALLOC_CONF=" + malloc_conf, vigildPath(), "--version"}, &out), 0) << out;
  return out;
}

TEST(Allocator, JemallocRunsWithVigildsOptions) {
#ifndef VIGIL_JEMALLOC
  GTEST_SKIP() << "vigild is built with the system allocator (VIGIL_ALLOCATOR=system)";
#endif
  const std::string out = jemallocOptions("stats_print:true");
  EXPECT_NE(out.find("opt.thp: \"always\""), std::string::npos) << out;
  EXPECT_NE(out.find("opt.narenas: 2\n"), std::string::npos) << out;
}

TEST(Allocator, MallocConfOverridesVigildsOptions) {
#ifndef VIGIL_JEMALLOC
  GTEST_SKIP() << "vigild is built with the system allocator (VIGIL_ALLOCATOR=system)";
#endif
  const std::string out = jemallocOptions("stats_print:true,thp:default,narenas:3");
  EXPECT_NE(out.find("opt.thp: \"default\""), std::string::npos) << out;
  EXPECT_NE(out.find("opt.narenas: 3\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace vigil::testing
