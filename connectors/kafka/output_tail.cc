#include "connectors/kafka/output_tail.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "connectors/kafka/kafka_client.h"

namespace vigil::connectors::kafka {

namespace {

// Records read back per partition. One would do for vigil's own records; a few more let a
// record without the header (written by someone else) not hide the last seq.
constexpr int64_t kTailRecords = 16;

}  // namespace

Result<std::vector<uint64_t>> readOutputTail(RdKafka::Producer& producer, const KafkaConfig& config,
                                             std::chrono::milliseconds timeout) {
  const std::string& topic = config.output_topic;
  const int timeout_ms = static_cast<int>(timeout.count());
  std::string error;
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(&producer, topic, nullptr, error));
  if (!handle) return fail(Status::internal("kafka output topic " + topic + ": " + error));
  RdKafka::Metadata* raw = nullptr;
  if (auto err = producer.metadata(false, handle.get(), &raw, timeout_ms); err != RdKafka::ERR_NO_ERROR) {
    return fail(Status::unavailable("kafka output topic " + topic + ": metadata: " + RdKafka::err2str(err)));
  }
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  const auto* topics = metadata->topics();
  if (topics->empty() || topics->front()->err() != RdKafka::ERR_NO_ERROR || topics->front()->partitions()->empty()) {
    const auto err = topics->empty() ? RdKafka::ERR_UNKNOWN_TOPIC_OR_PART : topics->front()->err();
    return fail(Status::unavailable("kafka output topic " + topic + ": " + RdKafka::err2str(err)));
  }
  std::vector<uint64_t> tails(topics->front()->partitions()->size(), 0);

  // Where each non-empty partition ends, and where its tail starts.
  std::map<int32_t, int64_t> last_offset;
  std::vector<RdKafka::TopicPartition*> assignment;
  struct Owned {
    std::vector<RdKafka::TopicPartition*>& items;
    ~Owned() { RdKafka::TopicPartition::destroy(items); }
  } owned{assignment};
  for (int32_t p = 0; p < static_cast<int32_t>(tails.size()); ++p) {
    int64_t low = 0;
    int64_t high = 0;
    if (auto err = producer.query_watermark_offsets(topic, p, &low, &high, timeout_ms); err != RdKafka::ERR_NO_ERROR) {
      return fail(Status::unavailable("kafka output topic " + topic + "/" + std::to_string(p) +
                                      ": offsets: " + RdKafka::err2str(err)));
    }
    if (high <= low) continue;
    last_offset[p] = high - 1;
    assignment.push_back(RdKafka::TopicPartition::create(topic, p, std::max(low, high - kTailRecords)));
  }
  if (assignment.empty()) return tails;

  // A consumer that only assigns (no group join); read_committed as a transactional writer's
  // aborted records must not count.
  auto conf = makeConf(config, {}, {{"group.id", config.group + "-output-tail"},
                                    {"enable.auto.commit", "false"},
                                    {"enable.partition.eof", "true"},
                                    {"isolation.level", "read_committed"}});
  if (!conf) return fail(conf.error());
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!consumer) return fail(Status::invalidArgument("kafka output tail consumer: " + error));
  if (auto err = consumer->assign(assignment); err != RdKafka::ERR_NO_ERROR) {
    consumer->close();
    return fail(Status::internal("kafka output tail: assign: " + RdKafka::err2str(err)));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Status status = Status::ok();
  while (!last_offset.empty()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      status = Status::unavailable("kafka output topic " + topic + ": reading its last records timed out");
      break;
    }
    std::unique_ptr<RdKafka::Message> msg(consumer->consume(100));
    if (!msg || msg->err() == RdKafka::ERR__TIMED_OUT) continue;
    const int32_t p = msg->partition();
    auto it = last_offset.find(p);
    if (msg->err() == RdKafka::ERR__PARTITION_EOF) {
      if (it != last_offset.end() && msg->offset() > it->second) last_offset.erase(it);
      continue;
    }
    if (msg->err() != RdKafka::ERR_NO_ERROR) {
      status = Status::unavailable("kafka output topic " + topic + ": " + msg->errstr());
      break;
    }
    if (const RdKafka::Headers* headers = msg->headers()) {
      const RdKafka::Headers::Header seq = headers->get_last("vigil-seq");
      if (seq.err() == RdKafka::ERR_NO_ERROR && seq.value() != nullptr) {
        const std::string text(static_cast<const char*>(seq.value()), seq.value_size());
        tails[p] = std::max<uint64_t>(tails[p], std::strtoull(text.c_str(), nullptr, 10));
      }
    }
    if (it != last_offset.end() && msg->offset() >= it->second) last_offset.erase(it);
  }
  consumer->close();
  if (!status) return fail(status);
  return tails;
}

}  // namespace vigil::connectors::kafka
