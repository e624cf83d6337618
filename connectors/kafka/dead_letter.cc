#include "connectors/kafka/dead_letter.h"

#include <spdlog/spdlog.h>

namespace vigil::connectors::kafka {

Status DeadLetterProducer::start() {
  if (config_.dead_letter_topic.empty()) return Status::ok();
  auto conf = makeConf(config_, {{"linger.ms", "50"}}, {});
  if (!conf) return conf.error();
  std::string error;
  if ((*conf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), error) != RdKafka::Conf::CONF_OK) {
    return Status::internal("kafka: " + error);
  }
  producer_.reset(RdKafka::Producer::create(conf->get(), error));
  if (!producer_) return Status::invalidArgument("kafka dead-letter producer: " + error);
  return Status::ok();
}

void DeadLetterProducer::send(const rd_kafka_message_t& msg, std::string_view error) {
  const std::string_view topic = rd_kafka_topic_name(msg.rkt);
  uint64_t suppressed = 0;
  if (log_.allow(suppressed)) {
    const std::string_view payload(static_cast<const char*>(msg.payload), msg.len);
    spdlog::warn("kafka: undecodable message at {}/{}@{}: {}; sample: {} ({} more suppressed){}", topic,
                 msg.partition, msg.offset, error, sampleOf(payload), suppressed,
                 producer_ ? "" : " (no dead_letter_topic: dropped)");
  }
  if (!producer_) {
    metrics_.dead_letter_disabled.Increment();
    return;
  }
  RdKafka::Headers* headers = RdKafka::Headers::create();
  headers->add("vigil-error", std::string(error));
  headers->add("vigil-topic", std::string(topic));
  headers->add("vigil-partition", std::to_string(msg.partition));
  headers->add("vigil-offset", std::to_string(msg.offset));
  for (;;) {
    const auto err = producer_->produce(config_.dead_letter_topic, RdKafka::Topic::PARTITION_UA,
                                        RdKafka::Producer::RK_MSG_COPY, msg.payload, msg.len, msg.key,
                                        msg.key ? msg.key_len : 0, 0, headers, nullptr);
    if (err == RdKafka::ERR_NO_ERROR) return;  // the producer owns the headers now
    if (err == RdKafka::ERR__QUEUE_FULL) {
      producer_->poll(100);
      continue;
    }
    delete headers;
    metrics_.dead_letter_failed.Increment();
    spdlog::error("kafka: dead-lettering to {}: {}", config_.dead_letter_topic, RdKafka::err2str(err));
    return;
  }
}

void DeadLetterProducer::poll() {
  if (producer_) producer_->poll(0);
}

void DeadLetterProducer::flush() {
  if (producer_ && producer_->flush(5000) != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("kafka: {} dead letters not delivered at shutdown", producer_->outq_len());
  }
}

void DeadLetterProducer::dr_cb(RdKafka::Message& message) {
  if (message.err() == RdKafka::ERR_NO_ERROR) {
    metrics_.dead_letter_produced.Increment();
  } else {
    metrics_.dead_letter_failed.Increment();
    spdlog::error("kafka: dead letter not delivered to {}: {}", config_.dead_letter_topic, message.errstr());
  }
}

}  // namespace vigil::connectors::kafka
