// vigild's built-in jemalloc options (daemon/main.cc): in effect, and MALLOC_CONF still overrides
// them. jemalloc prints its options at exit with stats_print.
#include <fstream>

#include <gtest/gtest.h>

#include "tests/support/process.h"
#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

// Runs `vigild --version` with MALLOC_CONF=stats_print:true plus `extra` and checks the options
// jemalloc reports.
void expectJemallocOptions(const std::string& extra, const std::string& thp, int narenas) {
#ifndef VIGIL_JEMALLOC
  GTEST_SKIP() << "vigild is built with the system allocator (VIGIL_ALLOCATOR=system)";
#endif
  std::string out;
  ASSERT_EQ(run({"env", "MALLOC_CONF=stats_print:true" + extra, vigildPath(), "--version"}, &out), 0) << out;
  // Without the kernel's THP switch jemalloc reports "not supported", whatever was asked.
  if (std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled").good()) {
    EXPECT_NE(out.find("opt.thp: \"" + thp + "\""), std::string::npos) << out;
  }
  EXPECT_NE(out.find("opt.narenas: " + std::to_string(narenas) + "\n"), std::string::npos) << out;
}

TEST(Allocator, JemallocRunsWithVigildsOptions) { expectJemallocOptions("", "never", 2); }

TEST(Allocator, MallocConfOverridesVigildsOptions) { expectJemallocOptions(",thp:always,narenas:3", "always", 3); }

}  // namespace
}  // namespace vigil::testing
