#include "connectors/kafka/field_mapping.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "daemon/yaml_util.h"

namespace vigil::connectors::kafka {
namespace {

FieldMapping mappingOf(std::string_view yaml) {
  auto node = loadYamlString(yaml, "m.yaml");
  EXPECT_TRUE(node.has_value());
  auto mapping = parseFieldMapping(*node, "m.yaml");
  EXPECT_TRUE(mapping.has_value()) << mapping.error().toString();
  return mapping ? *mapping : FieldMapping();
}

// An Alertmanager-like alert mapped onto Event fields.
constexpr std::string_view kAlert = R"({"status":"firing","labels":{"instance":"db-7","severity":"page",
  "alertname":"DiskFull"},"annotations":{"summary":"/var 98% full"},"startsAt":"2026-01-02T03:04:05Z",
  "fingerprint":"abc","generatorURL":null})";

TEST(FieldMapping, MapsPathsValuesAndDefaults) {
  const auto mapping = mappingOf(R"(
host: labels.instance
message: annotations.summary
time: startsAt
type: {from: labels.alertname}
state: {from: status, values: {firing: problem, resolved: ok}}
severity: {from: labels.severity, values: {page: critical}, default: warning}
labels.team: {from: labels.team, default: noc}
)");
  auto out = mapping.apply(kAlert);
  ASSERT_TRUE(out.has_value()) << out.error().toString();
  const auto j = nlohmann::json::parse(*out);
  EXPECT_EQ(j["host"], "db-7");
  EXPECT_EQ(j["message"], "/var 98% full");
  EXPECT_EQ(j["time"], "2026-01-02T03:04:05Z");
  EXPECT_EQ(j["type"], "DiskFull");
  EXPECT_EQ(j["state"], "problem");
  EXPECT_EQ(j["severity"], "critical");
  EXPECT_EQ(j["labels"]["team"], "noc");
  // Unmapped top-level fields become labels; fields a mapping reads from do not; null is dropped.
  EXPECT_EQ(j["labels"]["fingerprint"], "abc");
  EXPECT_FALSE(j["labels"].contains("status"));
  EXPECT_FALSE(j["labels"].contains("generatorURL"));
}

TEST(FieldMapping, UnlistedValuesPassAndMissingPathsStayUnset) {
  auto mapping = mappingOf("state: {from: status, values: {firing: problem}}\nci: labels.ci\n");
  mapping.setKeepUnmapped(false);
  auto out = mapping.apply(R"({"status":"ok","other":{"a":1}})");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, R"({"state":"ok"})");
}

TEST(FieldMapping, ObjectsAndNumbersBecomeText) {
  auto mapping = mappingOf("message: n\n");
  auto out = mapping.apply(R"({"n":42,"o":{"x":[1,2]}})");
  ASSERT_TRUE(out.has_value());
  const auto j = nlohmann::json::parse(*out);
  EXPECT_EQ(j["message"], "42");
  EXPECT_EQ(j["labels"]["o"], R"({"x":[1,2]})");
}

TEST(FieldMapping, RejectsNonObjects) {
  auto mapping = mappingOf("host: h\n");
  EXPECT_EQ(mapping.apply("[1]").error().message(), "expected a JSON object");
  EXPECT_EQ(mapping.apply("{oops").error().message(), "not valid JSON");
}

TEST(FieldMapping, ConfigErrorsPointAtTheLine) {
  auto node = loadYamlString("host: h\nhostname: x\n", "m.yaml");
  auto bad = parseFieldMapping(*node, "m.yaml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("m.yaml:2:1: field_mapping: unknown target 'hostname'"), std::string::npos)
      << bad.error().message();
  node = loadYamlString("state: {form: status}\n", "m.yaml");
  bad = parseFieldMapping(*node, "m.yaml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("m.yaml:1:"), std::string::npos) << bad.error().message();
  node = loadYamlString("host: a..b\n", "m.yaml");
  EXPECT_FALSE(parseFieldMapping(*node, "m.yaml").has_value());
}

}  // namespace
}  // namespace vigil::connectors::kafka
