// vigil-loadgen: produces the benchmark workload (workload.h) and writes it to a file or sends it
// to vigild over TCP syslog, HTTP intake or Kafka, paced or as fast as the receiver takes it.
//
//   vigil-loadgen [--events N --hosts H --seed S ...] json FILE        JSON lines (replay, SEC)
//   vigil-loadgen ... syslog FILE                                      RFC 3164 lines
//   vigil-loadgen ... cmdb FILE [--cis N]                              the hosts as CMDB CIs
//   vigil-loadgen ... expect                                           the expected incidents
//   vigil-loadgen ... tcp HOST:PORT [--rate R] [--connections C]       octet-counted syslog
//   vigil-loadgen ... http URL [--batch B] [--rate R] [--connections C] [--token T] [--announce-ready]
//   vigil-loadgen ... kafka BROKERS TOPIC
//
// Events of one host always travel on one connection (or Kafka key), so a link's down still
// reaches vigild before its up. Prints one JSON line of what it did; exit 1 on any failure.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafkacpp.h>

#include "benchmarks/loadgen/workload.h"

namespace vigil::loadgen {
namespace {

using SteadyClock = std::chrono::steady_clock;

int connectTo(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return -1;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host_port.substr(0, colon).c_str(), host_port.substr(colon + 1).c_str(), &hints, &res) != 0) {
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM, 0);
  if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return fd;
}

bool sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Holds a sender to `rate` events/s overall (0: as fast as possible).
class Pacer {
 public:
  explicit Pacer(double rate) : rate_(rate), start_(SteadyClock::now()) {}
  void wait(uint64_t sent) const {
    if (rate_ <= 0) return;
    const auto due = start_ + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(sent / rate_));
    std::this_thread::sleep_until(due);
  }

 private:
  double rate_;
  SteadyClock::time_point start_;
};

// The stream split by host over `n` lanes, each lane's events in stream order.
std::vector<std::vector<GeneratedEvent>> lanes(Workload& workload, size_t n) {
  std::vector<std::vector<GeneratedEvent>> out(n);
  GeneratedEvent e;
  while (workload.next(e)) out[e.host % n].push_back(e);
  return out;
}

// Runs `send_lane(i)` on one thread per lane; true when every lane succeeded.
template <typename F>
bool runLanes(size_t n, F&& send_lane) {
  std::vector<std::thread> threads;
  std::atomic<bool> ok{true};
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      if (!send_lane(i)) ok = false;
    });
  }
  for (auto& t : threads) t.join();
  return ok;
}

bool sendTcp(Workload& workload, const std::string& target, size_t connections, double rate) {
  auto per_lane = lanes(workload, connections);
  return runLanes(connections, [&](size_t i) {
    const int fd = connectTo(target);
    if (fd < 0) {
      std::cerr << "vigil-loadgen: cannot connect to " << target << "\n";
      return false;
    }
    Pacer pacer(rate / static_cast<double>(connections));
    std::string buf;
    uint64_t sent = 0;
    for (const auto& e : per_lane[i]) {
      const std::string line = toSyslogLine(e);
      buf += std::to_string(line.size());
      buf += ' ';
      buf += line;
      if (++sent % 256 == 0) {
        if (!sendAll(fd, buf)) return (close(fd), false);
        buf.clear();
        pacer.wait(sent);
      }
    }
    const bool ok = sendAll(fd, buf);
    shutdown(fd, SHUT_WR);
    char drain[256];
    while (recv(fd, drain, sizeof(drain), 0) > 0) {
    }
    close(fd);
    return ok;
  });
}

// A JSON POST to `path` on `host_port`, ready to send.
std::string httpPost(const std::string& host_port, const std::string& path, const std::string& token,
                     std::string_view body) {
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: " + host_port +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  req += "\r\n";
  req += body;
  return req;
}

// One keep-alive HTTP/1.1 connection; post() sends a request made by httpPost() and waits for the
// answer (vigild answers 202 once the batch is committed).
class HttpConnection {
 public:
  explicit HttpConnection(std::string host_port) : host_port_(std::move(host_port)) {}
  ~HttpConnection() {
    if (fd_ >= 0) close(fd_);
  }

  int post(std::string_view request) {
    if (fd_ < 0 && (fd_ = connectTo(host_port_)) < 0) return -1;
    if (!sendAll(fd_, request)) return -1;
    // Read the status line and headers, then the Content-Length body.
    in_.clear();
    char buf[4096];
    size_t header_end;
    while ((header_end = in_.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return -1;
      in_.append(buf, static_cast<size_t>(n));
    }
    size_t length = 0;
    const auto cl = in_.find("Content-Length: ");
    if (cl != std::string::npos && cl < header_end) length = std::stoul(in_.substr(cl + 16));
    while (in_.size() < header_end + 4 + length) {
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return -1;
      in_.append(buf, static_cast<size_t>(n));
    }
    return std::stoi(in_.substr(9, 3));
  }

 private:
  std::string host_port_;
  std::string in_;  // the answer being read
  int fd_ = -1;
};

// Every request is rendered before the first is sent, and `announce_ready` then prints "ready" on
// stdout: the load generator shares the cores with vigild, and rendering JSON while sending took
// about 1.5 CPU s per million events away from vigild inside the measured window.
bool sendHttp(Workload& workload, const std::string& url, size_t connections, size_t batch, double rate,
              const std::string& token, bool announce_ready) {
  // url: http://HOST:PORT/PATH
  const std::string rest = url.rfind("http://", 0) == 0 ? url.substr(7) : url;
  const auto slash = rest.find('/');
  const std::string host_port = rest.substr(0, slash);
  const std::string path = slash == std::string::npos ? "/api/v1/events" : rest.substr(slash);
  std::vector<std::vector<std::string>> requests(connections);
  {
    auto per_lane = lanes(workload, connections);
    for (size_t i = 0; i < connections; ++i) {
      const auto& events = per_lane[i];
      for (size_t at = 0; at < events.size(); at += batch) {
        std::string body = "[";
        for (size_t j = at; j < std::min(events.size(), at + batch); ++j) {
          std::string line = toJsonLine(events[j]);
          line.pop_back();  // newline
          if (j != at) body += ',';
          body += line;
        }
        body += ']';
        requests[i].push_back(httpPost(host_port, path, token, body));
      }
    }
  }
  if (announce_ready) {
    std::printf("ready\n");
    std::fflush(stdout);
  }
  return runLanes(connections, [&](size_t i) {
    HttpConnection conn(host_port);
    Pacer pacer(rate / static_cast<double>(connections));
    for (size_t k = 0; k < requests[i].size(); ++k) {
      // 429/503: vigild is holding back (rate limit, store not ready): retry the same batch.
      for (int attempt = 0;; ++attempt) {
        const int status = conn.post(requests[i][k]);
        if (status == 202 || status == 200) break;
        if ((status == 429 || status == 503) && attempt < 1000) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          continue;
        }
        std::cerr << "vigil-loadgen: POST " << path << " answered " << status << "\n";
        return false;
      }
      pacer.wait((k + 1) * batch);
    }
    return true;
  });
}

// Counts the messages the broker did not take: flush() returning says only that none is queued.
class DeliveryCounter final : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR) return;
    if (failed_++ == 0) std::cerr << "vigil-loadgen: delivery: " << message.errstr() << "\n";
  }
  uint64_t failed() const { return failed_; }

 private:
  uint64_t failed_ = 0;
};

// The high watermark of each partition of `topic`, or an empty vector on error.
std::vector<int64_t> highWatermarks(RdKafka::Producer& producer, const std::string& topic,
                                    std::vector<int64_t>* lows = nullptr) {
  RdKafka::Metadata* raw = nullptr;
  std::string err;
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(&producer, topic, nullptr, err));
  if (!handle || producer.metadata(false, handle.get(), &raw, 10000) != RdKafka::ERR_NO_ERROR) return {};
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (metadata->topics()->empty()) return {};
  std::vector<int64_t> highs(metadata->topics()->front()->partitions()->size(), 0);
  if (lows) lows->assign(highs.size(), 0);
  for (size_t p = 0; p < highs.size(); ++p) {
    int64_t low = 0;
    if (producer.query_watermark_offsets(topic, static_cast<int32_t>(p), &low, &highs[p], 10000) !=
        RdKafka::ERR_NO_ERROR) {
      return {};
    }
    if (lows) (*lows)[p] = low;
  }
  return highs;
}

bool sendKafka(Workload& workload, const std::string& brokers, const std::string& topic, double rate) {
  std::string err;
  DeliveryCounter deliveries;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  // lz4 as producers commonly use: librdkafka's mock cluster deletes the oldest messages beyond
  // 5 MiB per partition, which uncompressed JSON events pass at ~30 000 per partition.
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"bootstrap.servers", brokers}, {"linger.ms", "20"}, {"batch.num.messages", "10000"},
           {"queue.buffering.max.messages", "1000000"}, {"enable.idempotence", "true"},
           {"compression.codec", "lz4"}}) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      std::cerr << "vigil-loadgen: " << k << ": " << err << "\n";
      return false;
    }
  }
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&deliveries), err) != RdKafka::Conf::CONF_OK) {
    std::cerr << "vigil-loadgen: dr_cb: " << err << "\n";
    return false;
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  if (!producer) {
    std::cerr << "vigil-loadgen: " << err << "\n";
    return false;
  }
  const std::vector<int64_t> before = highWatermarks(*producer, topic);
  if (before.empty()) {
    std::cerr << "vigil-loadgen: no metadata or offsets for topic " << topic << "\n";
    return false;
  }
  Pacer pacer(rate);
  GeneratedEvent e;
  uint64_t sent = 0;
  while (workload.next(e)) {
    std::string value = toJsonLine(e);
    value.pop_back();
    const std::string key = Workload::hostName(e.host);
    for (;;) {
      const auto code = producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                          value.data(), value.size(), key.data(), key.size(), 0, nullptr);
      if (code == RdKafka::ERR_NO_ERROR) break;
      if (code != RdKafka::ERR__QUEUE_FULL) {
        std::cerr << "vigil-loadgen: produce: " << RdKafka::err2str(code) << "\n";
        return false;
      }
      producer->poll(10);
    }
    producer->poll(0);
    if (++sent % 1024 == 0) pacer.wait(sent);
  }
  if (producer->flush(60000) != RdKafka::ERR_NO_ERROR || deliveries.failed() != 0) {
    std::cerr << "vigil-loadgen: " << deliveries.failed() << " of " << sent << " events not delivered\n";
    return false;
  }
  // Delivered is not kept: a broker deletes the oldest messages beyond its retention. Count what
  // this run left in the topic, so a benchmark never waits for events that are gone.
  std::vector<int64_t> lows;
  const std::vector<int64_t> after = highWatermarks(*producer, topic, &lows);
  if (after.size() != before.size()) {
    std::cerr << "vigil-loadgen: no offsets for topic " << topic << " after producing\n";
    return false;
  }
  uint64_t kept = 0;
  for (size_t p = 0; p < after.size(); ++p) kept += static_cast<uint64_t>(after[p] - std::max(lows[p], before[p]));
  if (kept != sent) {
    std::cerr << "vigil-loadgen: the topic keeps " << kept << " of the " << sent
              << " events delivered: the broker deleted the oldest (retention; librdkafka's mock cluster keeps "
                 "5 MiB per partition). Use fewer events or more partitions.\n";
    return false;
  }
  return true;
}

bool writeFile(Workload& workload, const std::string& path, bool syslog) {
  std::ofstream out(path, std::ios::binary);
  GeneratedEvent e;
  while (workload.next(e)) {
    if (syslog) {
      out << toSyslogLine(e) << '\n';
    } else {
      out << toJsonLine(e);
    }
  }
  return static_cast<bool>(out.flush());
}

// Every host as a CI (one in ten a router, the rest switches), by name and address, in the
// CMDB YAML format (docs/cmdb.md), so every event binds: by its host name, which is listed as an
// alias (a CI's id is not one). Up to `cis` CIs in all: the rest are servers that send nothing
// (an FQDN and an address each, behind an access switch of their own every 48), so the index and
// topology grow as in a larger estate.
bool writeCmdb(const WorkloadOptions& options, uint32_t cis, const std::string& path) {
  std::ofstream out(path);
  out << "# Generated by vigil-loadgen for " << options.hosts << " hosts, " << std::max(cis, options.hosts)
      << " CIs.\ncis:\n";
  for (uint32_t h = 0; h < options.hosts; ++h) {
    out << "  - id: " << Workload::hostName(h) << "\n    class: " << (h % 10 == 0 ? "router" : "switch")
        << "\n    aliases: [" << Workload::hostName(h) << ", " << Workload::hostAddress(h)
        << "]\n    criticality: " << (h % 10 == 0 ? 2 : 3) << "\n";
  }
  char id[32], parent[32], fqdn[64], address[32];
  for (uint32_t i = 0; options.hosts + i < cis; ++i) {
    const uint32_t access = i - i % 48;
    std::snprintf(id, sizeof id, "ci-%07u", i);
    std::snprintf(fqdn, sizeof fqdn, "%s-%07u.dc%u.example.net", i == access ? "sw" : "srv", i, i % 20);
    std::snprintf(address, sizeof address, "172.%u.%u.%u", 16 + (i >> 16), (i >> 8) & 255, i & 255);
    out << "  - id: " << id << "\n    class: " << (i == access ? "switch" : "server") << "\n    aliases: [" << fqdn
        << ", " << address << "]\n";
    if (i != access) {
      std::snprintf(parent, sizeof parent, "ci-%07u", access);
      out << "    depends_on: [" << parent << "]\n";
    }
  }
  return static_cast<bool>(out.flush());
}

std::string expectationJson(const Expectation& x) {
  return "{\"events\":" + std::to_string(x.events) + ",\"noise\":" + std::to_string(x.noise) +
         ",\"opened\":" + std::to_string(x.opened) + ",\"resolved\":" + std::to_string(x.resolved) +
         ",\"open_at_end\":" + std::to_string(x.open_at_end()) + ",\"disk_opened\":" + std::to_string(x.disk_opened) +
         ",\"disk_held\":" + std::to_string(x.disk_held) + "}";
}

}  // namespace
}  // namespace vigil::loadgen

int main(int argc, char** argv) {
  using namespace vigil::loadgen;
  CLI::App app{"vigil-loadgen: the benchmark workload, written or sent to vigild"};
  WorkloadOptions options;
  double rate = 0;
  size_t connections = 1, batch = 100;
  std::string token;
  app.add_option("--events", options.events, "events in the stream");
  app.add_option("--hosts", options.hosts, "hosts (CIs) the events come from");
  app.add_option("--seed", options.seed, "random seed");
  app.add_option("--concurrent-episodes", options.concurrent_episodes, "episodes in flight at once");
  app.add_option("--noise-share", options.noise_share, "share of events that match no rule");
  app.add_option("--threshold-share", options.threshold_share, "share of events in disk threshold episodes");
  app.add_option("--unresolved-share", options.unresolved_share, "share of link/bgp episodes that never clear")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--rate", rate, "events/s overall (0 = as fast as the receiver takes them)");
  app.add_option("--connections", connections, "TCP/HTTP connections (events split by host)")->check(CLI::Range(1, 64));
  app.add_option("--batch", batch, "events per HTTP request")->check(CLI::Range(1, 100000));
  app.add_option("--token", token, "bearer token for HTTP intake");
  bool announce_ready = false;
  app.add_flag("--announce-ready", announce_ready,
               "http: print 'ready' on stdout once every request is rendered, before the first is sent");
  app.require_subcommand(1);
  std::string target, topic;
  auto* json = app.add_subcommand("json", "write JSON lines");
  json->add_option("file", target)->required();
  auto* syslog = app.add_subcommand("syslog", "write RFC 3164 syslog lines");
  syslog->add_option("file", target)->required();
  auto* cmdb = app.add_subcommand("cmdb", "write the CMDB of the hosts");
  cmdb->add_option("file", target)->required();
  uint32_t cis = 0;
  cmdb->add_option("--cis", cis, "CIs in all (more than --hosts: the rest are silent servers)");
  app.add_subcommand("expect", "print the expected incidents");
  auto* tcp = app.add_subcommand("tcp", "send octet-counted syslog over TCP");
  tcp->add_option("target", target, "HOST:PORT")->required();
  auto* http = app.add_subcommand("http", "POST JSON arrays to HTTP intake");
  http->add_option("url", target, "http://HOST:PORT[/api/v1/events]")->required();
  auto* kafka = app.add_subcommand("kafka", "produce JSON events to a Kafka topic, keyed by host");
  kafka->add_option("brokers", target)->required();
  kafka->add_option("topic", topic)->required();
  CLI11_PARSE(app, argc, argv);

  Workload workload(options);
  const auto start = std::chrono::steady_clock::now();
  bool ok = true;
  const std::string mode = app.get_subcommands().front()->get_name();
  if (mode == "json" || mode == "syslog") {
    ok = writeFile(workload, target, mode == "syslog");
  } else if (mode == "cmdb") {
    ok = writeCmdb(options, cis, target);
  } else if (mode == "expect") {
    GeneratedEvent e;
    while (workload.next(e)) {
    }
  } else if (mode == "tcp") {
    ok = sendTcp(workload, target, connections, rate);
  } else if (mode == "http") {
    ok = sendHttp(workload, target, connections, batch, rate, token, announce_ready);
  } else if (mode == "kafka") {
    ok = sendKafka(workload, target, topic, rate);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"mode\":\"%s\",\"ok\":%s,\"seconds\":%.3f,\"expect\":%s}\n", mode.c_str(), ok ? "true" : "false",
              seconds, expectationJson(workload.expectation()).c_str());
  return ok ? 0 : 1;
}
