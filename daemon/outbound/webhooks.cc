#include "daemon/outbound/webhooks.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
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

// What a change looks like when only the incident's state is known (a takeover's derived change).
incidents::ChangeKind latestChange(const incidents::Incident& in) {
  switch (in.state) {
    case incidents::IncidentState::kClosed: return incidents::ChangeKind::kClosed;
    case incidents::IncidentState::kResolved: return incidents::ChangeKind::kResolved;
    case incidents::IncidentState::kAcknowledged: return incidents::ChangeKind::kAcknowledged;
    case incidents::IncidentState::kOpen: break;
  }
  return in.revision <= 1 ? incidents::ChangeKind::kOpened : incidents::ChangeKind::kUpdated;
}

}  // namespace

// Scale-out: the partitions this instance notifies for, each since the local change seq at which
// it was loaded (older local changes of it are the previous ownership's: the takeover derives
// them from the partition's state instead).
struct Webhooks::Scope {
  bool partitioned = false;               // set before start()
  std::function<uint64_t()> durable_seq;  // set before start()
  mutable std::mutex mu;
  std::map<uint16_t, uint64_t> owned;     // partition → loaded at seq; GUARDED_BY(mu)

  bool owns(uint16_t partition) const {
    std::lock_guard lock(mu);
    return owned.contains(partition);
  }
  bool notifies(uint16_t partition, uint64_t seq) const {
    std::lock_guard lock(mu);
    auto it = owned.find(partition);
    return it != owned.end() && seq > it->second;
  }
};

class Webhooks::Receiver {
 public:
  Receiver(WebhookConfig config, store::Store& store, prometheus::Registry& registry, const Scope& scope)
      : config_(std::move(config)),
        store_(store),
        scope_(scope),
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
      // Under its original queue position (a takeover's derived entries share a seq).
      ops.push_back(putOp("q/" + d.key.substr(d.key.find(kDeadInfix) + kDeadInfix.size()), d.entry.dump()));
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

  // Scale-out takeover, on the correlator thread: queues, for every incident of `partition`, its
  // latest change when the receiver would get it and the partition's state does not say it was
  // delivered (the old owner died before, or handed over with it pending).
  Status derive(uint16_t partition, uint64_t at_seq) {
    std::vector<store::StateOp> ops;
    size_t queued = 0;
    Status failed = Status::ok();
    const incidents::IncidentId above = incidents::makeIncidentId(static_cast<uint16_t>(partition + 1), 0);
    Status s = store_.scanIncidents(partition == 0xffff ? 0 : above, [&](incidents::Incident&& in) {
      if (in.partition() != partition) return false;
      auto notified = store_.get(store::Column::kOutbox, partition, notifiedKey(in.id));
      if (!notified) {
        failed = notified.error();
        return false;
      }
      const bool told = notified->has_value();
      const incidents::ChangeKind kind = latestChange(in);
      if (told) {
        // "<revision> <change>": the last change delivered. A batch may hold several changes of
        // an incident under one revision; its last one is the incident's state.
        char* rest = nullptr;
        const uint64_t revision = std::strtoull((*notified)->c_str(), &rest, 10);
        const std::string_view change = *rest == ' ' ? std::string_view(rest + 1) : std::string_view();
        if (revision > in.revision || (revision == in.revision && change == incidents::changeKindName(kind))) {
          return true;
        }
      }
      const bool closing = kind == incidents::ChangeKind::kResolved || kind == incidents::ChangeKind::kClosed;
      if (!config_.match.matches(kind, in) && !(closing && told)) return true;
      json record = {{"seq", at_seq}, {"change", std::string(incidents::changeKindName(kind))}};
      incidents::toJson(in, record["incident"], /*with_details=*/false);
      ops.push_back(putOp("q/" + padded(at_seq) + "-" + padded(in.id),
                          entryFor(in, kind, at_seq, record.dump(-1, ' ', false, json::error_handler_t::replace))));
      ++queued;
      if (ops.size() >= kRouteChunk) {
        failed = store_.write(ops);
        ops.clear();
        if (!failed.isOk()) return false;
      }
      return true;
    });
    if (s.isOk()) s = failed;
    if (s.isOk()) s = store_.write(ops);
    if (!s.isOk()) return s;
    if (queued > 0) {
      spdlog::info("webhook {}: {} changes of partition {} taken over undelivered", config_.name, queued, partition);
      requeued_.fetch_add(queued);
      wake();
    }
    return Status::ok();
  }

 private:
  store::StateOp putOp(const std::string& key, std::string value) const {
    return store::StateOp::put(store::Column::kOutbox, 0, prefix_ + key, std::move(value));
  }
  store::StateOp eraseOp(const std::string& key) const {
    return store::StateOp::erase(store::Column::kOutbox, 0, prefix_ + key);
  }
  // Scale-out: the partition-state record of the last revision of `id` this receiver was sent.
  std::string notifiedKey(incidents::IncidentId id) const { return "wn/" + config_.name + "/" + padded(id); }
  // An outbox entry: the idempotency key (scale-out: by the incident's revision and the change,
  // the same on every instance; else by the change's seq) and the change record to send.
  std::string entryFor(const incidents::Incident& in, incidents::ChangeKind kind, uint64_t seq,
                       const std::string& record) const {
    const std::string version = scope_.partitioned
                                    ? std::to_string(in.revision) + "-" + std::string(incidents::changeKindName(kind))
                                    : std::to_string(seq);
    json entry = {{"key", config_.name + "-" + std::to_string(in.id) + "-" + version},
                  {"incident", in.id},
                  {"revision", in.revision},
                  {"change", std::string(incidents::changeKindName(kind))},
                  {"record", record}};
    return entry.dump();
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
    // Scale-out: only what the changelog has (a takeover cannot re-create it differently).
    const uint64_t limit =
        scope_.partitioned ? std::min(store_.lastChangeSeq(), scope_.durable_seq()) : store_.lastChangeSeq();
    while (!stopping_ && limit > routed_) {
      std::vector<store::StateOp> ops;
      std::unordered_map<incidents::IncidentId, bool> told;  // this chunk's view of told/<id>
      uint64_t last = routed_;
      size_t queued = 0;
      Status s = store_.readChanges(routed_, kRouteChunk, [&](const store::ChangeRecord& record) {
        if (record.seq > limit) return false;
        last = record.seq;
        const incidents::Incident& in = record.incident;
        // Scale-out: a partition this instance does not own (now, or since before the change) is
        // notified by its owner.
        if (scope_.partitioned && !scope_.notifies(in.partition(), record.seq)) return true;
        const std::string told_key = "told/" + padded(in.id);
        auto was_told = told.find(in.id);
        if (was_told == told.end()) {
          auto stored = store_.get(store::Column::kOutbox, 0, prefix_ + told_key);
          bool known = stored && *stored;
          if (!known && scope_.partitioned) {  // told by a previous owner
            auto notified = store_.get(store::Column::kOutbox, in.partition(), notifiedKey(in.id));
            known = notified && *notified;
          }
          was_told = told.emplace(in.id, known).first;
        }
        const bool closing = record.kind == incidents::ChangeKind::kResolved ||
                             record.kind == incidents::ChangeKind::kClosed;
        const bool send = config_.match.matches(record.kind, in) || (closing && was_told->second);
        if (!send) return true;
        ops.push_back(putOp("q/" + padded(record.seq), entryFor(in, record.kind, record.seq, record.json)));
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
    if (scope_.partitioned && !scope_.owns(incidents::partitionOf(entry.value("incident", uint64_t{0})))) {
      return drop(queue_key);  // its partition moved: the new owner sends it
    }
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
    if (scope_.partitioned) {
      // Delivered or given up: the partition's state says so, for whoever owns it next.
      const json entry = json::parse(value, nullptr, false);
      const uint64_t id = entry.is_object() ? entry.value("incident", uint64_t{0}) : 0;
      if (id != 0) {
        ops.push_back(store::StateOp::put(
            store::Column::kOutbox, incidents::partitionOf(id), notifiedKey(id),
            std::to_string(entry.value("revision", uint64_t{0})) + " " + entry.value("change", std::string())));
      }
    }
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

  // Takes an entry out of the outbox unsent.
  bool drop(const std::string& queue_key) {
    if (Status s = store_.write({eraseOp(queue_key)}); !s.isOk()) {
      spdlog::error("webhook {}: updating the outbox: {}", config_.name, s.toString());
      return false;
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
  const Scope& scope_;
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
    : scope_(std::make_unique<Scope>()), store_(store), registry_(registry) {
  for (auto& config : receivers) {
    receivers_.push_back(std::make_unique<Receiver>(std::move(config), store, registry, *scope_));
  }
}

void Webhooks::setPartitioned(std::function<uint64_t()> durable_seq) {
  scope_->partitioned = true;
  scope_->durable_seq = std::move(durable_seq);
}

Status Webhooks::loadPartition(const store::Store& /*store*/, uint16_t partition) {
  if (!scope_->partitioned) return Status::ok();
  const uint64_t at_seq = store_.lastChangeSeq();  // the correlator's: every later change is ours
  {
    std::lock_guard lock(scope_->mu);
    scope_->owned[partition] = at_seq;
  }
  std::lock_guard lock(mu_);
  for (auto& r : receivers_) {
    if (Status s = r->derive(partition, at_seq); !s.isOk()) return s;
  }
  return Status::ok();
}

void Webhooks::forgetPartition(uint16_t partition) {
  if (!scope_->partitioned) return;
  std::lock_guard lock(scope_->mu);
  scope_->owned.erase(partition);
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
    auto r = std::make_unique<Receiver>(std::move(c), store_, registry_, *scope_);
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
