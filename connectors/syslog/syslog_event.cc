#include "connectors/syslog/syslog_event.h"

#include "connectors/syslog/parse_util.h"

namespace vigil::connectors::syslog {
namespace {

void resetEvent(std::string_view transport, TimePoint received_at, Event& out) {
  out.source.assign("syslog/");
  out.source.append(transport);
  out.received_at = received_at;
  out.occurred_at.reset();
  out.host.clear();
  out.ci.clear();
  out.type.clear();
  out.severity = Severity::kInfo;
  out.state = EventState::kNone;
  out.message.clear();
  out.labels.clear();
  out.partition = 0;
}

void setIfPresent(Labels& labels, std::string_view key, std::string_view value) {
  if (!value.empty()) {
    labels.set(key, value);
  }
}

}  // namespace

Severity mapSeverity(uint8_t syslog_severity) {
  switch (syslog_severity) {
    case 0:
    case 1:
    case 2: return Severity::kCritical;
    case 3: return Severity::kMajor;
    case 4: return Severity::kWarning;
    default: return Severity::kInfo;
  }
}

void toEvent(const SyslogMessage& message, std::string_view transport,
             std::string_view peer_address, TimePoint received_at, Event& out) {
  resetEvent(transport, received_at, out);
  out.occurred_at = message.timestamp;
  out.host.assign(message.hostname.empty() ? peer_address : message.hostname);
  out.severity = mapSeverity(message.severity);
  out.message.assign(message.msg);
  Labels& labels = out.labels;
  labels.reserve(8);
  labels.set("facility", facilityName(message.facility));
  labels.set("syslog_severity", severityKeyword(message.severity));
  setIfPresent(labels, "app", message.app_name);
  setIfPresent(labels, "procid", message.procid);
  setIfPresent(labels, "msgid", message.msgid);
  setIfPresent(labels, "mnemonic", message.mnemonic);
  setIfPresent(labels, "peer", peer_address);
  if (!message.structured_data.empty()) {
    std::string key;
    std::string value;
    SdElementIterator elements(message.structured_data);
    SdElement element;
    while (elements.next(element)) {
      SdParamIterator params = element.params();
      SdParam param;
      while (params.next(param)) {
        key.assign("sd.");
        key.append(element.id);
        key.push_back('.');
        key.append(param.name);
        value.clear();
        param.appendValue(value);
        labels.set(key, value);
      }
    }
  }
}

void rawToEvent(std::string_view line, ParseError error, std::string_view transport,
                std::string_view peer_address, TimePoint received_at, Event& out) {
  resetEvent(transport, received_at, out);
  out.host.assign(peer_address);
  out.message.assign(detail::trimTrailing(line));
  out.labels.set("syslog_parse_error", parseErrorName(error));
  setIfPresent(out.labels, "peer", peer_address);
}

}  // namespace vigil::connectors::syslog
