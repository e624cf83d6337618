// libFuzzer target: parseSyslog() and the mapping to Event on arbitrary bytes.
// Checks, besides the sanitizers: every view the parser returns points into the input, and the
// structured data of an accepted RFC 5424 message can be walked to its end.
// Build and run with scripts/fuzz-syslog.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "connectors/syslog/syslog_event.h"
#include "connectors/syslog/syslog_parser.h"

namespace {

using namespace vigil::connectors::syslog;

void checkInside(std::string_view input, std::string_view view) {
  if (view.empty()) {
    return;
  }
  if (view.data() < input.data() || view.data() + view.size() > input.data() + input.size()) {
    std::abort();  // a view escaped the input buffer
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // A fixed `now` keeps runs reproducible (3164 year inference depends on it).
  const vigil::TimePoint now = vigil::TimePoint(std::chrono::seconds(1718452800));  // 2024-06-15
  static vigil::Event event;  // reused, as the listeners do
  const ParseResult parsed = parseSyslog(input, now);
  if (parsed) {
    const SyslogMessage& m = *parsed;
    for (std::string_view view : {m.raw, m.hostname, m.app_name, m.procid, m.msgid,
                                  m.structured_data, m.msg, m.mnemonic, m.sequence}) {
      checkInside(input, view);
    }
    if (m.facility > 23 || m.severity > 7) {
      std::abort();
    }
    SdElement element;
    SdParam param;
    std::string value;
    for (SdElementIterator elements(m.structured_data); elements.next(element);) {
      checkInside(input, element.id);
      for (SdParamIterator params = element.params(); params.next(param);) {
        checkInside(input, param.raw_value);
        param.appendValue(value);
      }
    }
    toEvent(m, "tcp", "192.0.2.1", now, event);
  } else {
    if (isUsableText(input) == (parsed.error() == ParseError::kEmpty ||
                                parsed.error() == ParseError::kBinary)) {
      std::abort();  // isUsableText must agree with the parser's own verdict
    }
    rawToEvent(input, parsed.error(), "udp", "192.0.2.1", now, event);
  }
  return 0;
}
