#include "rules/template.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/rules/test_util.h"

namespace vigil::rules {
namespace {

using testing::makeEvent;

std::string render(const std::string& text, const CaptureNames& names, const CaptureValues& values,
                   const Event& event) {
  Result<Template> t = Template::compile(text, names);
  if (!t) {
    return "ERROR: " + t.error().message();
  }
  std::string out = "prefix:";
  t->render(event, values, out);  // appends
  return out;
}

TEST(Template, RendersLiteralsFieldsLabelsAndCaptures) {
  CaptureNames names;
  ASSERT_EQ(names.add("interface"), 0);
  ASSERT_EQ(names.add("host"), 1);  // a capture shadows the field of the same name
  ASSERT_EQ(names.add("interface"), 0);
  const std::vector<std::string> values = {"Gi0/1", "captured-host"};
  const Event e = makeEvent({.source = "syslog/tcp",
                             .host = "sw1",
                             .ci = "CI-1",
                             .type = "link",
                             .severity = Severity::kMajor,
                             .state = EventState::kProblem,
                             .message = "m",
                             .labels = {{"app", "ios"}, {"interface", "from-label"}}});
  const CaptureValues both{values.data(), 0b11};
  const CaptureValues none{values.data(), 0};
  EXPECT_EQ(render("plain", names, both, e), "prefix:plain");
  EXPECT_EQ(render("", names, both, e), "prefix:");
  EXPECT_EQ(render("{{interface}}@{{ host }}", names, both, e), "prefix:Gi0/1@captured-host");
  EXPECT_EQ(render("{{interface}}", names, none, e), "prefix:from-label");  // label fallback
  EXPECT_EQ(render("{{host}}", names, none, e), "prefix:");  // no label "host" either
  EXPECT_EQ(render("{{source}} {{ci}} {{type}} {{severity}} {{state}} {{message}}", names, both, e),
            "prefix:syslog/tcp CI-1 link major problem m");
  EXPECT_EQ(render("{{labels.app}}/{{labels.missing}}/", names, both, e), "prefix:ios//");
  EXPECT_EQ(render("a {{ x", names, both, e), "ERROR: unterminated '{{' in template 'a {{ x'");
  EXPECT_EQ(render("{{ }}", names, both, e), "ERROR: empty '{{}}' in template '{{ }}'");
  EXPECT_EQ(render("{{app}}", names, both, e),
            "ERROR: unknown name 'app' in template '{{app}}' (expected a capture of the rule's "
            "regexes, a field such as host or type, or labels.<name>)");
  EXPECT_EQ(render("}} {single} braces", names, both, e), "prefix:}} {single} braces");
}

TEST(Template, LimitsCapturesPerRule) {
  CaptureNames names;
  for (size_t i = 0; i < CaptureNames::kMaxCaptures; ++i) {
    ASSERT_EQ(names.add("c" + std::to_string(i)), static_cast<int>(i));
  }
  EXPECT_EQ(names.add("one-too-many"), -1);
  EXPECT_EQ(names.find("c3"), 3);
  EXPECT_EQ(names.find("zz"), -1);
}

}  // namespace
}  // namespace vigil::rules
