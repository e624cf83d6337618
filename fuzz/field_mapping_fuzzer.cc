// libFuzzer target: the Kafka message path with a field mapping — FieldMapping::apply on an
// arbitrary message, then the EventDecoder on what it produced, as the Kafka source does.
// The first byte picks one of a few mappings (with values, defaults, labels, keep_unmapped).
// Checks, besides the sanitizers: apply() produces JSON the decoder can read as an object (it
// may still refuse the event, e.g. without a host), or fails with a message.
// Build and run with scripts/fuzz.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "connectors/kafka/field_mapping.h"
#include "daemon/event_json.h"
#include "daemon/yaml_util.h"

namespace {

using vigil::connectors::kafka::FieldMapping;

std::vector<FieldMapping> makeMappings() {
  const char* specs[] = {
      // Alertmanager-like alerts on a topic.
      "host: labels.instance\n"
      "type: labels.alertname\n"
      "state: {from: status, values: {firing: problem, resolved: ok}}\n"
      "severity: {from: labels.severity, values: {page: critical, ticket: minor}, default: warning}\n"
      "message: annotations.summary\n"
      "labels.runbook: annotations.runbook_url\n",
      // A flat schema with nested paths and a time.
      "time: ts\nci: device.id\nhost: device.name\nmessage: text\nlabels.site: device.location.site\n",
      // Everything from one deep path.
      "host: a.b.c.d.e\ntype: {from: a.b.kind, default: generic}\n",
  };
  std::vector<FieldMapping> out;
  for (const char* spec : specs) {
    auto node = vigil::loadYamlString(spec, "fuzz.yaml");
    if (!node) std::abort();
    auto mapping = vigil::connectors::kafka::parseFieldMapping(*node, "fuzz.yaml");
    if (!mapping) std::abort();
    out.push_back(*mapping);
  }
  out.push_back(out[0]);
  out.back().setKeepUnmapped(false);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<FieldMapping> mappings = makeMappings();
  static vigil::EventDecoder decoder;
  if (size < 1) return 0;
  const FieldMapping& mapping = mappings[data[0] % mappings.size()];
  const std::string_view message(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto mapped = mapping.apply(message);
  if (!mapped) {
    if (mapped.error().message().empty()) std::abort();
    return 0;
  }
  std::vector<vigil::Event> events;
  const vigil::Status status =
      decoder.decode(*mapped, "kafka/alerts", vigil::TimePoint(std::chrono::seconds(1718452800)), events);
  // Compared whole (or by prefix): other errors may quote the event's own text.
  if (!status.isOk() && (status.message() == "expected a JSON object or an array of objects" ||
                         status.message().rfind("empty body:", 0) == 0 ||
                         status.message().rfind("document:", 0) == 0)) {
    std::abort();  // the mapping wrote something that is not a JSON object
  }
  return 0;
}
