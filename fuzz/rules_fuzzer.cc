// libFuzzer target: the rules loader on arbitrary YAML text — RuleSet::loadString (yaml_loader,
// compiler with its RE2 regexes and templates, prefilter), then the compiled rules on a few
// events, as a rules reload does.
// Checks, besides the sanitizers: no exception escapes; an error starts with the file and a
// position ("fuzz.yaml:LINE:COL: message"); evaluation of what compiled does not crash.
// Build and run with scripts/fuzz.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "rules/decision.h"
#include "rules/rule_set.h"

namespace {

// The message starts with the position of its first error. (Not every line: messages quote
// names from the file verbatim, and a quoted name may itself hold a line break.)
void checkErrors(const vigil::Status& status) {
  if (status.message().rfind("fuzz.yaml:", 0) != 0) std::abort();  // an error that does not say where
}


vigil::Event makeEvent(std::string_view source, std::string_view host, std::string_view message) {
  vigil::Event event;
  event.source = source;
  event.host = host;
  event.type = "link";
  event.message = message;
  event.labels.set("app", "ios");
  event.labels.set("interface", "Gi0/1");
  return event;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rules = vigil::rules::RuleSet::loadString(text, "fuzz.yaml");
  if (!rules) {
    checkErrors(rules.error());
    return 0;
  }
  vigil::rules::Decision decision;
  for (auto event : {makeEvent("syslog/tcp", "sw1", "%LINK-3-UPDOWN: Interface Gi0/1, changed state to down"),
                     makeEvent("http", "{{host}}", "{{message}} {{labels.app}}"),
                     makeEvent("alertmanager", "db1", "")}) {
    (*rules)->evaluate(event, decision);
  }
  return 0;
}
