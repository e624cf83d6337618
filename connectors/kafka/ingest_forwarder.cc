#include "connectors/kafka/ingest_forwarder.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <prometheus/counter.h>
#include <spdlog/spdlog.h>

#include "connectors/kafka/kafka_client.h"
#include "daemon/cmdb/topology.h"
#include "daemon/event_json.h"

namespace vigil::connectors::kafka {

std::string correlationDomain(const Event& event, const cmdb::ConfigurationItem* ci,
                              const cmdb::CiSnapshot& cmdb, DomainKey mode) {
  if (ci != nullptr && mode == DomainKey::kTopologyRoot) {
    if (const auto* root = cmdb::topologyRoot(cmdb, ci->id)) return root->id;
  }
  if (ci != nullptr && mode != DomainKey::kHost) return ci->id;
  return event.host.empty() ? event.ci : event.host;
}

namespace {

// One offered batch: its callback runs when the last of its events is acknowledged.
struct InFlightBatch {
  std::atomic<size_t> remaining{0};
  std::atomic<bool> failed{false};
  std::string error;  // first failure; written once, under failed
  CommitCallback on_commit;
};

}  // namespace

class IngestForwarder::Impl final : public RdKafka::DeliveryReportCb, public RdKafka::EventCb {
 public:
  Impl(KafkaConfig kafka, ScaleoutConfig scaleout, CmdbSource cmdb, prometheus::Registry& registry)
      : kafka_(std::move(kafka)),
        scaleout_(std::move(scaleout)),
        cmdb_(std::move(cmdb)),
        produced_(prometheus::BuildCounter()
                      .Name("vigil_ingest_forwarded_total")
                      .Help("Events an edge produced to the ingest topic, by result")
                      .Register(registry)),
        delivered_(produced_.Add({{"result", "delivered"}})),
        failed_(produced_.Add({{"result", "failed"}})) {}

  Status start() {
    auto conf = makeConf(kafka_, {{"linger.ms", "5"}, {"queue.buffering.max.messages", "1000000"}},
                         {{"enable.idempotence", "true"}, {"acks", "all"}});
    if (!conf) return conf.error();
    std::string error;
    if ((*conf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), error) != RdKafka::Conf::CONF_OK ||
        (*conf)->set("event_cb", static_cast<RdKafka::EventCb*>(this), error) != RdKafka::Conf::CONF_OK) {
      return Status::internal("kafka: " + error);
    }
    producer_.reset(RdKafka::Producer::create(conf->get(), error));
    if (!producer_) return Status::invalidArgument("kafka ingest producer: " + error);
    spdlog::info("scale-out edge: producing events to {} keyed by correlation domain", scaleout_.ingest_topic);
    thread_ = std::thread([this] {
      while (!stopping_.load(std::memory_order_relaxed)) producer_->poll(50);
    });
    return Status::ok();
  }

  void stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    thread_.join();
    if (producer_->flush(10000) != RdKafka::ERR_NO_ERROR) {
      spdlog::warn("scale-out edge: {} events unacknowledged at shutdown", producer_->outq_len());
    }
  }

  bool ready() const { return broker_up_.load(std::memory_order_relaxed); }

  bool offer(EventBatch& batch) {
    if (stopping_) return false;
    const auto cmdb = cmdb_();
    auto in_flight = std::make_shared<InFlightBatch>();
    in_flight->remaining = batch.events.size() + 1;  // +1: held until every event is handed over
    std::string key;
    for (size_t i = 0; i < batch.events.size(); ++i) {
      Event& event = batch.events[i];
      const cmdb::Binding binding = cmdb->bind(event);
      if (binding.ci) event.ci = binding.ci->id;
      key = correlationDomain(event, binding.ci, *cmdb, scaleout_.domain);
      const std::string value = encodeEventJson(event);
      auto* opaque = new std::shared_ptr<InFlightBatch>(in_flight);
      for (;;) {
        const auto err = producer_->produce(scaleout_.ingest_topic, RdKafka::Topic::PARTITION_UA,
                                            RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                                            value.size(), key.data(), key.size(), 0, opaque);
        if (err == RdKafka::ERR_NO_ERROR) break;
        if (err == RdKafka::ERR__QUEUE_FULL && i == 0) {  // nothing sent yet: refuse the batch whole
          delete opaque;
          return false;
        }
        if (err != RdKafka::ERR__QUEUE_FULL) {
          delete opaque;
          fail(*in_flight, "producing to " + scaleout_.ingest_topic + ": " + RdKafka::err2str(err));
          in_flight->remaining -= batch.events.size() - i;
          i = batch.events.size();
          break;
        }
        producer_->poll(10);  // a full queue mid-batch: wait for deliveries to make room
      }
    }
    in_flight->on_commit = std::move(batch.on_commit);
    settle(in_flight);
    return true;
  }

  // RdKafka::DeliveryReportCb; called on: the poll thread.
  void dr_cb(RdKafka::Message& message) override {
    std::unique_ptr<std::shared_ptr<InFlightBatch>> in_flight(
        static_cast<std::shared_ptr<InFlightBatch>*>(message.msg_opaque()));
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      delivered_.Increment();
    } else {
      failed_.Increment();
      fail(**in_flight, "not delivered to " + scaleout_.ingest_topic + ": " + message.errstr());
    }
    settle(*in_flight);
  }

  // RdKafka::EventCb
  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_ERROR) return;
    if (event.err() == RdKafka::ERR__ALL_BROKERS_DOWN) broker_up_ = false;
    spdlog::warn("scale-out edge: {}", event.str());
  }

 private:
  void fail(InFlightBatch& batch, std::string error) {
    if (!batch.failed.exchange(true)) batch.error = std::move(error);
  }
  void settle(const std::shared_ptr<InFlightBatch>& batch) {
    if (batch->remaining.fetch_sub(1) != 1) return;
    if (!batch->failed) broker_up_ = true;
    if (batch->on_commit) {
      batch->on_commit(batch->failed ? Status::unavailable(batch->error) : Status::ok());
    }
  }

  const KafkaConfig kafka_;
  const ScaleoutConfig scaleout_;
  const CmdbSource cmdb_;
  prometheus::Family<prometheus::Counter>& produced_;
  prometheus::Counter& delivered_;
  prometheus::Counter& failed_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> broker_up_{true};
};

IngestForwarder::IngestForwarder(KafkaConfig kafka, ScaleoutConfig scaleout, CmdbSource cmdb,
                                 prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(kafka), std::move(scaleout), std::move(cmdb), registry)) {}
IngestForwarder::~IngestForwarder() { stop(); }
Status IngestForwarder::start() { return impl_->start(); }
void IngestForwarder::stop() { impl_->stop(); }
bool IngestForwarder::ready() const { return impl_->ready(); }
bool IngestForwarder::offer(EventBatch& batch) { return impl_->offer(batch); }
bool IngestForwarder::push(EventBatch batch) {
  while (!impl_->offer(batch)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return true;
}

}  // namespace vigil::connectors::kafka
