// The setup the correlator tests share: a fresh store in a temporary directory, pipeline
// metrics, the test's inline rule set, and what the store holds.
#pragma once

#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/metrics/metrics.h"
#include "daemon/store/store.h"
#include "rules/rule_set.h"
#include "tests/support/temp_dir.h"

namespace vigil::testing {

// Link down/up syslog messages open and resolve `<host>/link/<interface>`.
inline constexpr const char* kLinkRules = R"(
rules:
  - name: link-down
    match:
      message: {regex: 'Interface (?P<interface>\S+) down'}
    set: {type: link, state: problem, severity: major}
    key: '{{host}}/link/{{interface}}'
    title: 'Link down on {{host}} {{interface}}'
  - name: link-up
    match:
      message: {regex: 'Interface (?P<interface>\S+) up'}
    set: {type: link, state: ok}
    key: '{{host}}/link/{{interface}}'
)";

// A syslog message from `host`, received now.
inline Event syslogLine(std::string host, std::string message) {
  Event e;
  e.source = "test";
  e.host = std::move(host);
  e.message = std::move(message);
  e.received_at = Clock::now();
  return e;
}

class PipelineFixture : public ::testing::Test {
 protected:
  // Call from SetUp (ASSERTs return from this function only: check HasFatalFailure after it).
  void openStoreAndRules(const char* rules_yaml) {
    auto store = store::Store::open({.path = dir_.file("db")});
    ASSERT_TRUE(store) << store.error().toString();
    store_ = std::move(*store);
    auto rules = rules::RuleSet::loadString(rules_yaml, "inline.yaml");
    ASSERT_TRUE(rules) << rules.error().toString();
    rules_ = *rules;
  }

  // Every incident in the store, newest first.
  std::vector<incidents::Incident> storedIncidents() const {
    std::vector<incidents::Incident> out;
    EXPECT_TRUE(store_->scanIncidents(0, [&](incidents::Incident&& in) {
      out.push_back(std::move(in));
      return true;
    }).isOk());
    return out;
  }

  TempDir dir_;
  metrics::MetricsRegistry registry_;
  metrics::PipelineMetrics metrics_{registry_.registry()};
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<const rules::RuleSet> rules_;
};

}  // namespace vigil::testing
