// Hostile input against the real vigild: oversize messages and bodies, invalid UTF-8 and NUL
// bytes, deeply nested JSON, huge label maps, template injection, thousands of connections,
// slowloris clients, request smuggling and bad tokens. Each must end in a clear error or a
// counted drop, and the daemon must keep serving (/healthz 200 after each).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A raw TCP connection to 127.0.0.1, for what libcurl will not send.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  RawConnection(RawConnection&& other) noexcept : fd_(other.fd_), connected_(other.connected_) { other.fd_ = -1; }

  bool connected() const { return connected_; }
  bool send(std::string_view data) {
    for (size_t off = 0; off < data.size();) {
      const ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Everything the peer sends until it closes or `timeout` passes; `closed` says which.
  std::string readAll(std::chrono::milliseconds timeout, bool* closed = nullptr) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (closed) *closed = false;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        if (closed) *closed = true;
        break;
      }
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }
  // True when the peer has closed the connection (or reset it) within `timeout`.
  bool closedWithin(std::chrono::milliseconds timeout) {
    bool closed = false;
    readAll(timeout, &closed);
    return closed;
  }

 private:
  int fd_;
  bool connected_ = false;
};

bool healthy(const VigildInstance& vigild) { return httpGet(vigild.url("/healthz")).status == 200; }

uint16_t httpPort(const VigildInstance& vigild) {
  const std::string base = vigild.url("");
  return static_cast<uint16_t>(std::stoi(base.substr(base.rfind(':') + 1)));
}

std::string syslogLine(const std::string& host, const std::string& msg) {
  return "<187>1 2026-01-01T00:00:00Z " + host + " ios - - - " + msg + "\n";
}

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(HostileInput, OversizeSyslogMessagesAreDroppedAndCounted) {
  VigildInstance vigild("", "", "  max_message_size: 8KiB\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  RawConnection tcp(vigild.syslogPort());
  ASSERT_TRUE(tcp.connected());
  // 1 MiB in one LF frame, then an ordinary message on the same connection.
  ASSERT_TRUE(tcp.send(syslogLine("big1", std::string(1 << 20, 'A'))));
  ASSERT_TRUE(tcp.send(syslogLine("small1", "%LINK-3-UPDOWN: Interface Gi0/1, changed state to down")));
  EXPECT_TRUE(waitFor([&] { return metricValue(vigild, "vigil_syslog_dropped_total", {"reason=\"oversize\""}) >= 1; }))
      << vigild.log();
  EXPECT_TRUE(waitFor([&] { return vigild.incidents("host=small1").size() == 1; })) << "the next message was lost";
  EXPECT_TRUE(vigild.incidents("host=big1").empty());
  EXPECT_TRUE(healthy(vigild));
}

TEST(HostileInput, OversizeHttpBodiesAre413) {
  VigildInstance vigild("", "  max_body_size: 64KiB\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const std::string body = R"({"host":"big","type":"t","message":")" + std::string(80 << 10, 'x') + R"("})";
  const HttpResponse r = httpPost(vigild.url("/api/v1/events"), body);
  EXPECT_EQ(r.status, 413) << r.body;
  // Far over the limit: RESTinio cuts the connection off (no 2xx, no event).
  const HttpResponse huge = httpPost(vigild.url("/api/v1/events"),
                                     R"({"host":"huge","type":"t","message":")" + std::string(8 << 20, 'x') + R"("})");
  EXPECT_NE(huge.status, 202);
  EXPECT_TRUE(vigild.incidents("host=huge").empty());
  EXPECT_TRUE(healthy(vigild));
}

TEST(HostileInput, InvalidUtf8AndNulBytesInSyslogAndJson) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  RawConnection tcp(vigild.syslogPort());
  ASSERT_TRUE(tcp.connected());
  const std::string bad_utf8 = "\xff\xfe\xc3\x28 \xed\xa0\x80";
  const std::string nul("a\0b", 3);
  ASSERT_TRUE(tcp.send(syslogLine("utf8sw", "%LINK-3-UPDOWN: Interface Gi0/1" + bad_utf8 + ", changed state to down")));
  ASSERT_TRUE(tcp.send(syslogLine("nulsw", "%LINK-3-UPDOWN: Interface Gi0/2, changed state to down " + nul)));
  ASSERT_TRUE(tcp.send(syslogLine("after", "%LINK-3-UPDOWN: Interface Gi0/3, changed state to down")));
  ASSERT_TRUE(waitFor([&] { return vigild.incidents("host=after").size() == 1; })) << vigild.log();
  // The API still answers valid JSON for whatever the incidents hold.
  const HttpResponse list = httpGet(vigild.url("/api/v1/incidents?limit=1000"));
  ASSERT_EQ(list.status, 200);
  EXPECT_FALSE(json::parse(list.body, nullptr, false).is_discarded());

  const HttpResponse utf8 = httpPost(vigild.url("/api/v1/events"), R"({"host":"j1","type":"t","message":")" + bad_utf8 + R"("})");
  EXPECT_EQ(utf8.status, 400) << utf8.body;
  const HttpResponse raw_nul = httpPost(vigild.url("/api/v1/events"), std::string(R"({"host":"j2","type":"t","message":"a)") + '\0' + R"(b"})");
  EXPECT_EQ(raw_nul.status, 400) << raw_nul.body;
  // An escaped NUL is valid JSON: accepted, and served back escaped.
  const HttpResponse escaped = httpPost(vigild.url("/api/v1/events"), R"({"host":"j3","type":"t","state":"problem","message":"a\u0000b"})");
  EXPECT_EQ(escaped.status, 202) << escaped.body;
  EXPECT_EQ(vigild.incidents("host=j3").size(), 1u);
  EXPECT_TRUE(healthy(vigild));
}

TEST(HostileInput, DeeplyNestedJsonIsRefusedOnEveryEndpoint) {
  VigildInstance vigild("", "  max_body_size: 4MiB\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const std::string deep = nested(100000);
  for (const std::string& body :
       {deep, R"({"host":"n1","type":"t","labels":{"x":)" + deep + "}}", R"({"host":"n2","type":"t","extra":)" + deep + "}"}) {
    const HttpResponse r = httpPost(vigild.url("/api/v1/events"), body);
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
    EXPECT_TRUE(healthy(vigild));
  }
  // The Alertmanager and PagerDuty decoders (nlohmann::json) see the nesting inside an object.
  for (const std::string& body :
       {R"({"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"x"},"annotations":{"a":)" + deep + "}}]}",
        R"({"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"x","l":)" + deep + "}}]}"}) {
    const HttpResponse am = httpPost(vigild.url("/api/v1/alertmanager"), body);
    EXPECT_EQ(am.status, 400) << am.body.substr(0, 200);
    ASSERT_TRUE(healthy(vigild));
  }
  const HttpResponse pd = httpPost(vigild.url("/api/v1/pagerduty"),
                                   R"({"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info",)"
                                   R"("custom_details":{"d":)" + deep + "}}}");
  EXPECT_EQ(pd.status, 400) << pd.body.substr(0, 200);
  EXPECT_TRUE(healthy(vigild));
}

TEST(HostileInput, HugeLabelMapsHitTheConfiguredLimit) {
  VigildInstance vigild("", "  max_labels: 100\n  max_field_size: 1KiB\n  max_body_size: 8MiB\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  std::string labels;
  for (int i = 0; i < 100000; ++i) labels += (i ? "," : "") + ("\"l" + std::to_string(i) + "\":\"v\"");
  HttpResponse r = httpPost(vigild.url("/api/v1/events"), R"({"host":"l1","type":"t","labels":{)" + labels + "}}");
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
  EXPECT_NE(r.body.find("too many labels"), std::string::npos) << r.body.substr(0, 200);
  r = httpPost(vigild.url("/api/v1/events"), "{\"host\":\"l2\",\"type\":\"t\"," + labels + "}");  // as unknown fields
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
  r = httpPost(vigild.url("/api/v1/alertmanager"),
               R"({"version":"4","status":"firing","alerts":[{"labels":{"alertname":"x",)" + labels + R"(}}]})");
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
  r = httpPost(vigild.url("/api/v1/events"), R"({"host":"l3","type":"t","labels":{"big":")" + std::string(2048, 'v') + R"("}})");
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
  // At the limit is fine.
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += (i ? "," : "") + ("\"l" + std::to_string(i) + "\":\"v\"");
  r = httpPost(vigild.url("/api/v1/events"), R"({"host":"l4","type":"t","labels":{)" + hundred + "}}");
  EXPECT_EQ(r.status, 202) << r.body.substr(0, 200);
  EXPECT_TRUE(vigild.incidents("host=l1").empty());
  EXPECT_TRUE(healthy(vigild));
}

TEST(HostileInput, TemplatesInEventFieldsAreNotExpandedAgain) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  // The shipped rule titles Alertmanager alerts '{{type}} on {{host}}: {{message}}'.
  const HttpResponse r = httpPost(
      vigild.url("/api/v1/alertmanager"),
      R"({"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"{{labels.secret}}","host":"h{{host}}","secret":"s3cr3t"},)"
      R"("annotations":{"summary":"{{message}}{{labels.fingerprint}}"},"fingerprint":"fp1"}]})");
  ASSERT_EQ(r.status, 202) << r.body;
  const json list = vigild.incidents("key=alertmanager/fp1");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["title"], "{{labels.secret}} on h{{host}}: {{message}}{{labels.fingerprint}}");
  EXPECT_TRUE(healthy(vigild));
}

TEST(HostileInput, ThousandsOfSyslogConnectionsStayWithinTheLimitAndHttpKeepsServing) {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 8192);
  ::setrlimit(RLIMIT_NOFILE, &limit);  // vigild inherits it
  const size_t connections = std::min<size_t>(3000, limit.rlim_cur - 200);
  VigildInstance vigild("", "", "  max_connections: 200\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  std::vector<RawConnection> open;
  open.reserve(connections);
  for (size_t i = 0; i < connections; ++i) open.emplace_back(vigild.syslogPort());
  EXPECT_TRUE(waitFor([&] {
    return metricValue(vigild, "vigil_syslog_dropped_total", {"reason=\"too_many_connections\""}) >=
           static_cast<double>(connections - 200);
  })) << metricValue(vigild, "vigil_syslog_dropped_total", {"reason=\"too_many_connections\""});
  EXPECT_LE(metricValue(vigild, "vigil_syslog_connections"), 200);
  EXPECT_TRUE(healthy(vigild));
  EXPECT_EQ(httpPost(vigild.url("/api/v1/events"), R"({"host":"c1","type":"t"})").status, 202);
  open.clear();
  // Once they are gone, new senders get in again.
  RawConnection fresh(vigild.syslogPort());
  ASSERT_TRUE(fresh.send(syslogLine("conn-after", "%LINK-3-UPDOWN: Interface Gi0/1, changed state to down")));
  EXPECT_TRUE(waitFor([&] { return vigild.incidents("host=conn-after").size() == 1; }));
}

TEST(HostileInput, SlowlorisClientsAreClosedByTheTimeouts) {
  VigildInstance vigild("", "  read_timeout: 2s\n", "  idle_timeout: 1s\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  // HTTP: a request trickling in one byte a second never completes within read_timeout.
  RawConnection http(httpPort(vigild));
  ASSERT_TRUE(http.connected());
  const std::string request = "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + std::string(100, ' ');
  bool closed = false;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < request.size() && !closed; ++i) {
    if (!http.send(request.substr(i, 1))) break;
    closed = http.closedWithin(1s);
  }
  EXPECT_TRUE(closed || std::chrono::steady_clock::now() - start < 60s) << "the trickling HTTP client was never closed";
  EXPECT_TRUE(healthy(vigild));
  // Syslog: a sender that dribbles a byte every 2 s is idle longer than idle_timeout each time.
  RawConnection syslog(vigild.syslogPort());
  ASSERT_TRUE(syslog.send("<1"));
  bool syslog_closed = false;
  for (int i = 0; i < 10 && !syslog_closed; ++i) {
    syslog_closed = syslog.closedWithin(2s);
    if (!syslog_closed) syslog.send("3");
  }
  EXPECT_TRUE(syslog_closed);
  EXPECT_TRUE(healthy(vigild));
}

TEST(HostileInput, RequestSmugglingIsRefusedAndTheSmuggledRequestNeverRuns) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const uint16_t port = httpPort(vigild);
  const std::string smuggled = "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               "Content-Length: 32\r\n\r\n{\"host\":\"smuggled\",\"type\":\"t\"}  ";
  const std::vector<std::string> attempts = {
      // CL.TE: Content-Length says the body ends early, chunked says later.
      "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
      // Two different Content-Lengths.
      "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}" + smuggled,
      // An obfuscated Transfer-Encoding.
      "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\n{}" + smuggled,
  };
  for (const std::string& attempt : attempts) {
    RawConnection c(port);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send(attempt));
    const std::string answer = c.readAll(5s);
    // A 400, or the connection closed without an answer; never a 2xx.
    EXPECT_TRUE(answer.empty() || answer.rfind("HTTP/1.1 400", 0) == 0) << answer.substr(0, 200);
    EXPECT_EQ(answer.find("HTTP/1.1 202"), std::string::npos) << answer.substr(0, 400);
    EXPECT_TRUE(healthy(vigild));
  }
  EXPECT_TRUE(vigild.incidents("host=smuggled").empty()) << "a smuggled request was executed";
}

TEST(HostileInput, MissingOrWrongTokensAre401And403OnTheIntakeEndpoints) {
  const std::string ingest = "ingest-token-0123456789abcdef", viewer = "viewer-token-0123456789abcdef";
  VigildInstance vigild("", "  tokens:\n    - {name: zabbix, token: " + ingest + ", role: ingest}\n"
                            "    - {name: wall, token: " + viewer + ", role: viewer}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  for (const char* path : {"/api/v1/events", "/api/v1/alertmanager", "/api/v1/pagerduty"}) {
    EXPECT_EQ(httpPost(vigild.url(path), "{}").status, 401) << path;
    EXPECT_EQ(httpPost(vigild.url(path), "{}", "wrong-token-0123456789abcdef").status, 401) << path;
    EXPECT_EQ(httpPost(vigild.url(path), "{}", ingest.substr(0, ingest.size() - 1)).status, 401) << path;
    EXPECT_EQ(httpPost(vigild.url(path), "{}", viewer).status, 403) << path;
  }
  EXPECT_EQ(httpPost(vigild.url("/api/v1/events"), R"({"host":"t1","type":"t"})", ingest).status, 202);
  EXPECT_TRUE(healthy(vigild));
}

// One request on its own connection (Connection: close); the status answered, 0 for none.
int rawRequestStatus(uint16_t port, const std::string& method, const std::string& path, const std::string& token,
                     const std::string& body = "") {
  RawConnection c(port);
  if (!c.connected()) return 0;
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  if (!c.send(request)) return 0;
  const std::string answer = c.readAll(30s);
  return answer.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(answer.substr(9, 3)) : 0;
}

TEST(HostileInput, EveryRefusedRequestIsCountedByReason) {
  const std::string ingest = "ingest-token-0123456789abcdef", viewer = "viewer-token-0123456789abcdef";
  // A queue of one event and a small rate limit, so 503 and 429 can be provoked too.
  VigildInstance vigild("pipeline: {queue_capacity: 1}\n",
                        "  max_body_size: 64KiB\n  rate_limit: {requests_per_second: 1, burst: 300}\n"
                        "  tokens:\n    - {name: zabbix, token: " + ingest + ", role: ingest}\n"
                        "    - {name: wall, token: " + viewer + ", role: viewer}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const auto rejected = [&](const char* reason) {
    return metricValue(vigild, "vigil_http_requests_rejected_total", {std::string("reason=\"") + reason + "\""});
  };
  for (const char* reason : {"bad_request", "unauthorized", "forbidden", "not_found", "conflict", "body_too_large",
                             "rate_limited", "internal_error", "unavailable", "other"}) {
    EXPECT_EQ(rejected(reason), 0) << reason << " is rendered from the start";
  }
  const uint16_t port = httpPort(vigild);
  std::map<int, int> seen;  // status -> requests answered with it
  const std::string event = R"({"host":"counted","type":"t"})";
  ++seen[rawRequestStatus(port, "POST", "/api/v1/events", "", event)];
  ++seen[rawRequestStatus(port, "POST", "/api/v1/events", "wrong-token-0123456789abcdef", event)];
  ++seen[rawRequestStatus(port, "POST", "/api/v1/events", viewer, event)];
  ++seen[rawRequestStatus(port, "POST", "/api/v1/events", ingest, std::string(80 << 10, 'x'))];
  ++seen[rawRequestStatus(port, "POST", "/api/v1/events", ingest, "{not json")];
  ++seen[rawRequestStatus(port, "GET", "/api/v1/no-such-thing", "")];
  ++seen[rawRequestStatus(port, "GET", "/api/v1/incidents/987654321", viewer)];
  ++seen[rawRequestStatus(port, "POST", "/api/v1/events", ingest, event)];
  // Queue full: many requests at once until one finds the one-event queue taken.
  EXPECT_TRUE(waitFor([&] {
    std::vector<RawConnection> burst;
    for (int i = 0; i < 16; ++i) burst.emplace_back(port);
    const std::string request = "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " +
                                ingest + "\r\nContent-Length: " + std::to_string(event.size()) + "\r\n\r\n" + event;
    for (auto& c : burst) c.send(request);
    for (auto& c : burst) {
      const std::string answer = c.readAll(30s);
      ++seen[answer.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(answer.substr(9, 3)) : 0];
    }
    return seen[503] > 0;
  })) << "no request found the queue full";
  // Over the rate limit: 300 requests of burst, then 1 a second.
  for (int i = 0; i < 5000 && seen[429] == 0; ++i) ++seen[rawRequestStatus(port, "GET", "/api/v1/incidents", viewer)];
  for (int status : {400, 401, 403, 404, 413, 429, 503}) EXPECT_GT(seen[status], 0) << status;
  EXPECT_EQ(seen[0], 0) << "a request got no answer";
  EXPECT_EQ(rejected("bad_request"), seen[400]);
  EXPECT_EQ(rejected("unauthorized"), seen[401]);
  EXPECT_EQ(rejected("forbidden"), seen[403]);
  EXPECT_EQ(rejected("not_found"), seen[404]);
  EXPECT_EQ(rejected("body_too_large"), seen[413]);
  EXPECT_EQ(rejected("rate_limited"), seen[429]);
  EXPECT_EQ(rejected("unavailable"), seen[503]);
  EXPECT_EQ(rejected("conflict") + rejected("internal_error") + rejected("other"), 0);
  EXPECT_GT(seen[202], 0);
  EXPECT_TRUE(healthy(vigild));
}

TEST(HostileInput, StopsCleanlyWithKeepAliveConnectionsOpen) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  // Connections that answered a request and stay open, as browsers keep them.
  std::vector<RawConnection> open;
  for (int i = 0; i < 3; ++i) {
    open.emplace_back(httpPort(vigild));
    ASSERT_TRUE(open.back().send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_NE(open.back().readAll(1s).find("HTTP/1.1 200"), std::string::npos);
  }
  // Before the fix the server was freed under them and the sanitized vigild aborted here.
  EXPECT_EQ(vigild.stop(), 0) << vigild.log();
}

}  // namespace
}  // namespace vigil::testing
