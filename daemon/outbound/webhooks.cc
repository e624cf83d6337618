#include "daemon/outbound/webhooks.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <curl/curl.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>

namespace vigil::outbound {

using nlohmann::json;

namespace {

constexpr size_t kRouteChunk = 1000;  // change records routed per store write

std::string padded(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(n));
  return buf;
}

size_t discardBody(char* /*data*/, size_t size, size_t n, void* /*user*/) { return size * n; }

int abortWhenStopping(void* stopping, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(stopping)->load(std::memory_order_relaxed) ? 1 : 0;
}

struct Attempt {
  long status = 0;     // 0: no HTTP answer
  std::string error;
};

}  // namespace

class Webhooks::Receiver {
 public:
  Receiver(WebhookConfig config, store::Store& store, prometheus::Registry& registry)
      : config_(std::move(config)),
        store_(store),
        prefix_("wh/" + config_.name + "/"),
        deliveries_(prometheus::BuildCounter()
                        .Name("vigil_webhook_deliveries_total")
                        .Help("Incident changes delivered to a webhook receiver (2xx)")
                        .Register(registry)
                        .Add({{"receiver", config_.name}})),
        failures_(prometheus::BuildCounter()
                      .Name("vigil_webhook_failures_total")
                      .Help("Failed webhook delivery attempts (retried with backoff)")
                      .Register(registry)
                      .Add({{"receiver", config_.name}})),
        dead_(prometheus::BuildCounter()
                  .Name("vigil_webhook_dead_letters_total")
                  .Help("Webhook deliveries given up (max_retries or a permanent 4xx), kept as dead letters")
                  .Register(registry)
                  .Add({{"receiver", config_.name}})),
        depth_gauge_(prometheus::BuildGauge()
                         .Name("vigil_webhook_queue_depth")
                         .Help("Incident changes waiting in a webhook receiver's outbox")
                         .Register(registry)
                         .Add({{"receiver", config_.name}})) {}

  ~Receiver() { stop(); }

  Status start() {
    auto pos = store_.get(store::Column::kOutbox, 0, prefix_ + "pos");
    if (!pos) return pos.error();
    if (*pos) {
      routed_ = std::stoull(**pos);
    } else {
      routed_ = store_.lastChangeSeq();
      if (Status s = store_.write({putOp("pos", std::to_string(routed_))}); !s.isOk()) return s;
    }
    Status s = store_.scan(store::Column::kOutbox, 0, prefix_ + "q/", [&](std::string_view, std::string_view) {
      ++depth_;
      return true;
    });
    if (!s.isOk()) return s;
    depth_gauge_.Set(static_cast<double>(depth_));
    spdlog::info("webhook {}: delivering to {} from change {} ({} waiting in the outbox)", config_.name,
                 config_.url, routed_ + 1, depth_);
    thread_ = std::thread([this] { run(); });
    return Status::ok();
  }

  void stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    wake();
    thread_.join();
  }

  void wake() {
    {
      std::lock_guard lock(mu_);
      woken_ = true;
    }
    cv_.notify_one();
  }

 private:
  store::StateOp putOp(const std::string& key, std::string value) const {
    return store::StateOp::put(store::Column::kOutbox, 0, prefix_ + key, std::move(value));
  }
  store::StateOp eraseOp(const std::string& key) const {
    return store::StateOp::erase(store::Column::kOutbox, 0, prefix_ + key);
  }

  void run() {
    auto next_attempt = std::chrono::steady_clock::now();
    while (!stopping_.load(std::memory_order_relaxed)) {
      route();
      auto now = std::chrono::steady_clock::now();
      if (depth_ > 0 && now >= next_attempt) {
        const bool delivered = deliverOldest();
        if (delivered) {
          attempts_ = 0;
          continue;  // next one straight away
        }
        if (attempts_ > 0) {
          // Exponential backoff: initial × 2^(attempts-1), capped.
          auto delay = config_.backoff_initial * (1LL << std::min(attempts_ - 1, 30));
          next_attempt = std::chrono::steady_clock::now() + std::min<std::chrono::milliseconds>(delay, config_.backoff_max);
        }
        now = std::chrono::steady_clock::now();
      }
      const auto wait = depth_ > 0 && next_attempt > now
                            ? std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt - now)
                            : std::chrono::milliseconds(depth_ > 0 ? 0 : 1000);
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, wait, [&] { return woken_; });
      woken_ = false;
    }
  }

  // Moves the change records after routed_ into the outbox, a chunk per atomic write.
  void route() {
    while (!stopping_ && store_.lastChangeSeq() > routed_) {
      std::vector<store::StateOp> ops;
      std::unordered_map<incidents::IncidentId, bool> told;  // this chunk's view of told/<id>
      uint64_t last = routed_;
      size_t queued = 0;
      Status s = store_.readChanges(routed_, kRouteChunk, [&](const store::ChangeRecord& record) {
        last = record.seq;
        const incidents::Incident& in = record.incident;
        const std::string told_key = "told/" + padded(in.id);
        auto was_told = told.find(in.id);
        if (was_told == told.end()) {
          auto stored = store_.get(store::Column::kOutbox, 0, prefix_ + told_key);
          was_told = told.emplace(in.id, stored && *stored).first;
        }
        const bool closing = record.kind == incidents::ChangeKind::kResolved ||
                             record.kind == incidents::ChangeKind::kClosed;
        const bool send = config_.match.matches(record.kind, in) || (closing && was_told->second);
        if (!send) return true;
        json entry = {{"key", config_.name + "-" + std::to_string(in.id) + "-" + std::to_string(record.seq)},
                      {"incident", in.id},
                      {"change", std::string(incidents::changeKindName(record.kind))},
                      {"record", record.json}};
        ops.push_back(putOp("q/" + padded(record.seq), entry.dump()));
        ++queued;
        if (closing && was_told->second) {
          ops.push_back(eraseOp(told_key));
          was_told->second = false;
        } else if (!closing && !was_told->second) {
          ops.push_back(putOp(told_key, ""));
          was_told->second = true;
        }
        return true;
      });
      if (!s.isOk()) {
        spdlog::error("webhook {}: reading the change log: {}", config_.name, s.toString());
        return;
      }
      if (last == routed_) {
        spdlog::error("webhook {}: change records after seq {} are gone (retention); skipping them", config_.name,
                      routed_);
        last = store_.lastChangeSeq();
      }
      ops.push_back(putOp("pos", std::to_string(last)));
      if (Status w = store_.write(ops); !w.isOk()) {
        spdlog::error("webhook {}: writing the outbox: {}", config_.name, w.toString());
        return;  // routed_ unchanged: the same records are routed again next round
      }
      routed_ = last;
      depth_ += queued;
      depth_gauge_.Set(static_cast<double>(depth_));
    }
  }

  // Attempts the oldest outbox record; true when it left the outbox (delivered or dead).
  bool deliverOldest() {
    std::string key, value;
    Status s = store_.scan(store::Column::kOutbox, 0, prefix_ + "q/", [&](std::string_view k, std::string_view v) {
      key = std::string(k);
      value = std::string(v);
      return false;
    });
    if (!s.isOk() || key.empty()) {
      if (!s.isOk()) spdlog::error("webhook {}: reading the outbox: {}", config_.name, s.toString());
      return false;
    }
    const json entry = json::parse(value, nullptr, false);
    const std::string queue_key = key.substr(prefix_.size());
    if (!entry.is_object()) return settle(queue_key, "", false, "unreadable outbox record");
    const json record = json::parse(entry.value("record", std::string()), nullptr, false);
    const std::string idempotency_key = entry.value("key", std::string());
    const Attempt a = post(renderBody(config_, record), idempotency_key);
    if (a.status >= 200 && a.status < 300) return settle(queue_key, value, true, "");
    failures_.Increment();
    ++attempts_;
    const bool permanent = a.status >= 400 && a.status < 500 && a.status != 408 && a.status != 429;
    const std::string why = a.status ? "HTTP " + std::to_string(a.status) : a.error;
    if (permanent || attempts_ > config_.max_retries) return settle(queue_key, value, false, why);
    spdlog::warn("webhook {}: {} (attempt {}): {}", config_.name, idempotency_key, attempts_, why);
    return false;
  }

  // Takes a record out of the outbox: delivered, or moved to the dead letters.
  bool settle(const std::string& queue_key, const std::string& value, bool delivered, const std::string& why) {
    std::vector<store::StateOp> ops{eraseOp(queue_key)};
    if (!delivered) ops.push_back(putOp("dead/" + queue_key.substr(2), value));
    if (Status s = store_.write(ops); !s.isOk()) {
      spdlog::error("webhook {}: updating the outbox: {}", config_.name, s.toString());
      return false;
    }
    if (delivered) {
      deliveries_.Increment();
    } else {
      dead_.Increment();
      spdlog::error("webhook {}: giving up on {} after {} attempts: {}", config_.name, queue_key, attempts_, why);
    }
    attempts_ = 0;
    --depth_;
    depth_gauge_.Set(static_cast<double>(depth_));
    return true;
  }

  Attempt post(const std::string& body, const std::string& idempotency_key) {
    Attempt a;
    CURL* curl = curl_easy_init();
    if (curl == nullptr) {
      a.error = "curl_easy_init failed";
      return a;
    }
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    headers = curl_slist_append(headers, ("Idempotency-Key: " + idempotency_key).c_str());
    for (const auto& [name, value] : config_.headers) headers = curl_slist_append(headers, (name + ": " + value).c_str());
    curl_easy_setopt(curl, CURLOPT_URL, config_.url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discardBody);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, abortWhenStopping);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &stopping_);
    const CURLcode code = curl_easy_perform(curl);
    if (code == CURLE_OK) {
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.status);
    } else {
      a.error = curl_easy_strerror(code);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return a;
  }

  const WebhookConfig config_;
  store::Store& store_;
  const std::string prefix_;
  prometheus::Counter& deliveries_;
  prometheus::Counter& failures_;
  prometheus::Counter& dead_;
  prometheus::Gauge& depth_gauge_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;  // GUARDED_BY(mu_)

  // Receiver-thread state (set up by start() before the thread runs).
  uint64_t routed_ = 0;
  size_t depth_ = 0;
  int attempts_ = 0;  // failed attempts of the oldest record
};

Webhooks::Webhooks(std::vector<WebhookConfig> receivers, store::Store& store, prometheus::Registry& registry) {
  for (auto& config : receivers) receivers_.push_back(std::make_unique<Receiver>(std::move(config), store, registry));
}

Webhooks::~Webhooks() { stop(); }

Status Webhooks::start() {
  for (auto& r : receivers_) {
    if (Status s = r->start(); !s.isOk()) return s;
  }
  return Status::ok();
}

void Webhooks::stop() {
  for (auto& r : receivers_) r->stop();
}

void Webhooks::onCommitted(const incidents::ChangeSet& /*changes*/) {
  for (auto& r : receivers_) r->wake();
}

}  // namespace vigil::outbound
