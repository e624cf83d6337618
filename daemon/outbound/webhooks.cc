#include "daemon/outbound/webhooks.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <curl/curl.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>

#include "daemon/time_util.h"

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

constexpr std::string_view kDeadInfix = "/dead/";

// A dead letter as stored: the outbox entry plus error, attempts and dead_at.
struct StoredDeadLetter {
  DeadLetter letter;
  std::string key;    // the store key, "wh/<name>/dead/<seq>"
  json entry;         // what goes back into the outbox on retry
};

// Reads "wh/<name>/dead/<seq>" → value; nullopt for any other outbox key.
std::optional<StoredDeadLetter> readDeadLetter(std::string_view key, std::string_view value) {
  if (key.substr(0, 3) != "wh/") return std::nullopt;
  const size_t infix = key.find(kDeadInfix, 3);
  if (infix == std::string_view::npos) return std::nullopt;
  const std::string_view name = key.substr(3, infix - 3);
  if (name.find('/') != std::string_view::npos) return std::nullopt;
  StoredDeadLetter d;
  d.key = std::string(key);
  d.letter.receiver = std::string(name);
  const std::string_view seq = key.substr(infix + kDeadInfix.size());
  d.letter.seq = std::strtoull(std::string(seq).c_str(), nullptr, 10);
  json entry = json::parse(value, nullptr, false);
  if (!entry.is_object()) entry = json::object();
  d.letter.id = entry.value("key", std::string());
  d.letter.incident = entry.value("incident", uint64_t{0});
  d.letter.change = entry.value("change", std::string());
  d.letter.error = entry.value("error", std::string());
  d.letter.attempts = entry.value("attempts", 0);
  d.letter.dead_at = entry.value("dead_at", std::string());
  for (const char* field : {"error", "attempts", "dead_at"}) entry.erase(field);
  d.entry = std::move(entry);
  return d;
}

bool wanted(const DeadLetterFilter& filter, const DeadLetter& d) {
  if (filter.receiver && *filter.receiver != d.receiver) return false;
  return filter.ids.empty() || std::find(filter.ids.begin(), filter.ids.end(), d.id) != filter.ids.end();
}

// Every stored dead letter that `filter` selects, oldest change first per receiver.
Status scanDeadLetters(const store::Store& store, const DeadLetterFilter& filter, size_t limit,
                       std::vector<StoredDeadLetter>& out) {
  // With a receiver, only its dead letters are read; otherwise the whole outbox.
  const std::string prefix = filter.receiver ? "wh/" + *filter.receiver + std::string(kDeadInfix) : "wh/";
  return store.scan(store::Column::kOutbox, 0, prefix, [&](std::string_view key, std::string_view value) {
    auto d = readDeadLetter(key, value);
    if (d && wanted(filter, d->letter)) out.push_back(std::move(*d));
    return out.size() < limit;
  });
}

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
                         .Add({{"receiver", config_.name}})),
        retries_(prometheus::BuildCounter()
                     .Name("vigil_webhook_dead_letter_retries_total")
                     .Help("Webhook dead letters moved back into the outbox by an operator (API retry)")
                     .Register(registry)
                     .Add({{"receiver", config_.name}})) {}

  const WebhookConfig& config() const { return config_; }

  // Puts dead letters back into the outbox (one atomic write) and wakes the thread.
  // REQUIRES: serialised with other calls of it and with setReceivers() (Webhooks::reload_mu_).
  Status requeue(const std::vector<StoredDeadLetter>& letters) {
    if (letters.empty()) return Status::ok();
    std::vector<store::StateOp> ops;
    for (const auto& d : letters) {
      ops.push_back(store::StateOp::erase(store::Column::kOutbox, 0, d.key));
      ops.push_back(putOp("q/" + padded(d.letter.seq), d.entry.dump()));
    }
    if (Status s = store_.write(ops); !s.isOk()) return s;
    retries_.Increment(static_cast<double>(letters.size()));
    requeued_.fetch_add(letters.size());
    spdlog::info("webhook {}: {} dead letters back in the outbox", config_.name, letters.size());
    wake();
    return Status::ok();
  }

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
      if (const size_t retried = requeued_.exchange(0); retried > 0) {
        depth_ += retried;
        depth_gauge_.Set(static_cast<double>(depth_));
        next_attempt = std::chrono::steady_clock::now();
      }
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
    if (!delivered) {
      json dead = json::parse(value, nullptr, false);
      if (!dead.is_object()) dead = json::object();
      dead["error"] = why;
      dead["attempts"] = attempts_;
      dead["dead_at"] = formatRfc3339(Clock::now());
      ops.push_back(putOp("dead/" + queue_key.substr(2), dead.dump()));
    }
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
  prometheus::Counter& retries_;
  std::atomic<size_t> requeued_{0};  // dead letters put back by requeue(), not yet in depth_
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

Webhooks::Webhooks(std::vector<WebhookConfig> receivers, store::Store& store, prometheus::Registry& registry)
    : store_(store), registry_(registry) {
  for (auto& config : receivers) receivers_.push_back(std::make_unique<Receiver>(std::move(config), store, registry));
}

Webhooks::~Webhooks() { stop(); }

Status Webhooks::start() {
  std::lock_guard lock(mu_);
  started_ = true;
  for (auto& r : receivers_) {
    if (Status s = r->start(); !s.isOk()) return s;
  }
  return Status::ok();
}

void Webhooks::stop() {
  std::lock_guard lock(mu_);
  for (auto& r : receivers_) r->stop();
}

bool Webhooks::empty() const {
  std::lock_guard lock(mu_);
  return receivers_.empty();
}

Status Webhooks::setReceivers(std::vector<WebhookConfig> configs) {
  std::lock_guard reload(reload_mu_);
  std::vector<std::unique_ptr<Receiver>> retired;
  std::vector<WebhookConfig> added;
  bool started = false;
  {
    std::lock_guard lock(mu_);
    started = started_;
    std::vector<std::unique_ptr<Receiver>> kept;
    for (auto& r : receivers_) {
      const bool same = std::find(configs.begin(), configs.end(), r->config()) != configs.end();
      (same ? kept : retired).push_back(std::move(r));
    }
    receivers_ = std::move(kept);
    for (auto& c : configs) {
      const bool running = std::any_of(receivers_.begin(), receivers_.end(),
                                       [&](const auto& r) { return r->config().name == c.name; });
      if (!running) added.push_back(std::move(c));
    }
  }
  // Stopped before a changed receiver starts again under the same name: one thread per outbox.
  for (auto& r : retired) {
    r->stop();
    spdlog::info("webhook {}: stopped by a config reload (its outbox stays in the store)", r->config().name);
  }
  retired.clear();
  Status result = Status::ok();
  std::vector<std::unique_ptr<Receiver>> fresh;
  for (auto& c : added) {
    auto r = std::make_unique<Receiver>(std::move(c), store_, registry_);
    if (started) {
      if (Status s = r->start(); !s.isOk()) {
        spdlog::error("webhook {}: cannot start after a config reload: {}", r->config().name, s.toString());
        result = s;
        continue;
      }
    }
    fresh.push_back(std::move(r));
  }
  std::lock_guard lock(mu_);
  for (auto& r : fresh) receivers_.push_back(std::move(r));
  return result;
}

Result<std::vector<DeadLetter>> Webhooks::deadLetters(const DeadLetterFilter& filter, size_t limit) const {
  std::vector<StoredDeadLetter> stored;
  if (Status s = scanDeadLetters(store_, filter, limit, stored); !s.isOk()) return fail(s);
  std::lock_guard lock(mu_);
  std::vector<DeadLetter> out;
  for (auto& d : stored) {
    d.letter.configured = std::any_of(receivers_.begin(), receivers_.end(),
                                      [&](const auto& r) { return r->config().name == d.letter.receiver; });
    out.push_back(std::move(d.letter));
  }
  return out;
}

Result<RetryOutcome> Webhooks::retryDeadLetters(const DeadLetterFilter& filter) {
  // Under reload_mu_ the receivers neither change nor go away; mu_ is held only for the copy, so
  // the correlator's onCommitted() never waits for this scan.
  std::lock_guard reload(reload_mu_);
  std::vector<Receiver*> receivers;
  {
    std::lock_guard lock(mu_);
    for (auto& r : receivers_) receivers.push_back(r.get());
  }
  std::vector<StoredDeadLetter> stored;
  if (Status s = scanDeadLetters(store_, filter, std::numeric_limits<size_t>::max(), stored); !s.isOk()) return fail(s);
  RetryOutcome outcome;
  for (const auto& id : filter.ids) {
    const bool found = std::any_of(stored.begin(), stored.end(), [&](const auto& d) { return d.letter.id == id; });
    if (!found) outcome.not_found.push_back(id);
  }
  for (const auto& d : stored) {
    const bool configured = std::any_of(receivers.begin(), receivers.end(),
                                        [&](const Receiver* r) { return r->config().name == d.letter.receiver; });
    if (!configured) outcome.skipped_unconfigured.push_back(d.letter.id);
  }
  for (Receiver* r : receivers) {
    std::vector<StoredDeadLetter> mine;
    for (const auto& d : stored) {
      // A record without its change (unreadable when it died) cannot be sent again.
      if (d.letter.receiver == r->config().name && d.entry.contains("record")) mine.push_back(d);
    }
    if (Status s = r->requeue(mine); !s.isOk()) return fail(s);
    outcome.retried += mine.size();
  }
  return outcome;
}

void Webhooks::onCommitted(const incidents::ChangeSet& /*changes*/) {
  std::lock_guard lock(mu_);
  for (auto& r : receivers_) r->wake();
}

}  // namespace vigil::outbound
