#include "connectors/kafka/kafka_client.h"

namespace vigil::connectors::kafka {

Result<std::unique_ptr<RdKafka::Conf>> makeConf(const KafkaConfig& config, const Properties& defaults,
                                                const Properties& forced) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  auto set = [&](const std::string& key, const std::string& value) -> Status {
    if (conf->set(key, value, error) != RdKafka::Conf::CONF_OK) {
      return Status::invalidArgument("kafka property " + key + "=" + value + ": " + error);
    }
    return Status::ok();
  };
  if (Status s = set("bootstrap.servers", config.brokers); !s) return fail(s);
  if (Status s = set("client.id", "vigild"); !s) return fail(s);
  for (const auto& [k, v] : defaults) {
    if (Status s = set(k, v); !s) return fail(s);
  }
  for (const auto& [k, v] : config.properties) {
    if (Status s = set(k, v); !s) return fail(s);
  }
  for (const auto& [k, v] : forced) {
    if (Status s = set(k, v); !s) return fail(s);
  }
  return conf;
}

Properties consumerDefaults(const KafkaConfig& config) {
  // queued.min.messages: librdkafka 2.0 stops fetching a partition whose queue holds that many
  // messages and looks again only about 1 s later (fetch.queue.backoff.ms, which shortens that,
  // came in 2.1). KafkaSource forwards every partition's queue to one, so the count is of all
  // partitions together: at the default 100 000 a consumer catching up on a backlog emptied the
  // queue in about half a second and then waited. 250 000 covers that second at the rates vigil
  // reaches; queued.max.messages.kbytes (64 MiB) still bounds the memory.
  return {{"auto.offset.reset", "earliest"},
          {"partition.assignment.strategy", config.assignment_strategy},
          {"statistics.interval.ms", std::to_string(config.lag_interval.count())},
          {"enable.partition.eof", "false"},
          {"queued.min.messages", "250000"}};
}

Result<std::unique_ptr<RdKafka::KafkaConsumer>> makeAssigningConsumer(const KafkaConfig& config,
                                                                      std::string_view purpose) {
  auto conf = makeConf(config, {}, {{"group.id", config.group + "-" + std::string(purpose)},
                                    {"enable.auto.commit", "false"},
                                    {"enable.partition.eof", "false"}});
  if (!conf) return fail(conf.error());
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!consumer) return fail(Status::invalidArgument("kafka " + std::string(purpose) + " consumer: " + error));
  return consumer;
}

bool RateLimitedLog::allow(uint64_t& suppressed) {
  const auto now = std::chrono::steady_clock::now();
  if (last_ != std::chrono::steady_clock::time_point{} && now - last_ < interval_) {
    ++suppressed_;
    return false;
  }
  last_ = now;
  suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

std::string sampleOf(std::string_view payload, size_t max) {
  std::string out;
  for (char c : payload.substr(0, max)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (payload.size() > max) out += "...";
  return out;
}

}  // namespace vigil::connectors::kafka
