// librdkafka plumbing shared by the consumer and the producers: building a Conf from the
// config (vigil's settings, then the user's `properties` verbatim), and a rate-limited logger.
// Thread-safety: functions are stateless; RateLimitedLog is used by one thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "connectors/kafka/kafka_config.h"
#include "daemon/status.h"

namespace vigil::connectors::kafka {

// `defaults` are vigil's choices for this client (a user property of the same name overrides
// them); `forced` cannot be overridden (group.id, enable.auto.commit ...).
using Properties = std::vector<std::pair<std::string, std::string>>;
Result<std::unique_ptr<RdKafka::Conf>> makeConf(const KafkaConfig& config, const Properties& defaults,
                                                const Properties& forced);

// vigil's defaults for the event consumer (KafkaSource).
Properties consumerDefaults(const KafkaConfig& config);

// A consumer that reads only what it assign()s: no group join, no offset commits, no EOF events
// (the changelog's readers: a takeover's restore, the standby replicas, the read model).
// `purpose` names it in its group.id (`<group>-<purpose>`) and in errors.
Result<std::unique_ptr<RdKafka::KafkaConsumer>> makeAssigningConsumer(const KafkaConfig& config,
                                                                      std::string_view purpose);

// At most one line per `interval`, reporting how many were suppressed in between.
class RateLimitedLog {
 public:
  explicit RateLimitedLog(std::chrono::seconds interval) : interval_(interval) {}
  // True when the caller should log now; `suppressed` says how many were held back before.
  bool allow(uint64_t& suppressed);

 private:
  std::chrono::seconds interval_;
  std::chrono::steady_clock::time_point last_{};
  uint64_t suppressed_ = 0;
};

// A short printable sample of a payload for logs.
std::string sampleOf(std::string_view payload, size_t max = 200);

}  // namespace vigil::connectors::kafka
