#include "connectors/kafka/kafka_decoder.h"

namespace vigil::connectors::kafka {

namespace {
constexpr std::string_view kSourcePrefix = "kafka/";
}  // namespace

Status KafkaMessageDecoder::decode(std::string_view payload, std::string_view topic, int32_t partition,
                                   TimePoint received_at, std::optional<TimePoint> message_time,
                                   std::vector<Event>& out) {
  if (partition < 0 || partition > 0xffff) return Status::invalidArgument("partition out of range");
  if (payload.empty()) return Status::invalidArgument("empty message");
  if (source_.empty() || std::string_view(source_).substr(kSourcePrefix.size()) != topic) {
    source_.assign(kSourcePrefix).append(topic);
  }
  const size_t first = out.size();
  Status s;
  if (mapping_.empty()) {
    s = decoder_.decode(payload, source_, received_at, out);
  } else {
    auto mapped = mapping_.apply(payload);
    if (!mapped) return mapped.error();
    s = decoder_.decode(*mapped, source_, received_at, out);
  }
  if (!s.isOk()) return s;
  for (size_t i = first; i < out.size(); ++i) {
    Event& event = out[i];
    if (event.source != source_) {
      event.labels.set("origin", event.source);
      event.source = source_;
    }
    event.partition = static_cast<uint16_t>(partition);
    if (!event.occurred_at && message_time) event.occurred_at = message_time;
  }
  return Status::ok();
}

}  // namespace vigil::connectors::kafka
