// A real Prometheus (Debian's `prometheus`, a plain child process with its own config and data
// dir on loopback) scrapes a running vigild every second while an incident on a business
// service's only member opens, is acknowledged and resolved through the API. Prometheus's query
// API must then show the service down and up again, the incident counts and the response-time
// histograms: what a NOC's Prometheus would see.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

using nlohmann::json;

std::string prometheusPath() { return VIGIL_PROMETHEUS_PATH; }

std::string urlEncode(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

class PrometheusServer {
 public:
  // Scrapes `target` (host:port) every second.
  explicit PrometheusServer(const std::string& target) : port_(freePort()) {
    writeFile(dir_.file("prometheus.yml"),
              "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
              "scrape_configs:\n"
              "  - job_name: vigil\n"
              "    static_configs: [{targets: ['" + target + "']}]\n");
  }

  bool start() {
    // Killed with SIGKILL by ~Process if the test fails before stop().
    process_ = std::make_unique<Process>(
        std::vector<std::string>{prometheusPath(), "--config.file=" + dir_.file("prometheus.yml"),
                                 "--storage.tsdb.path=" + dir_.file("data"),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"},
        dir_.file("prometheus.log"));
    bool ready = false;
    waitFor([&] {
      if (!process_->running()) return true;
      ready = httpGet(url("/-/ready")).status == 200;
      return ready;
    }, std::chrono::seconds(60));
    return ready;
  }
  int stop() { return process_ ? process_->stop(SIGTERM) : -1; }
  std::string log() const { return readFile(dir_.file("prometheus.log")); }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  // The instant-query answer (the whole JSON document), or null.
  json query(const std::string& promql) const {
    auto r = httpGet(url("/api/v1/query?query=" + urlEncode(promql)));
    if (r.status != 200) return nullptr;
    return json::parse(r.body, nullptr, false);
  }
  // The value of a query that returns one sample, or nullopt while it returns none.
  std::optional<double> value(const std::string& promql) const {
    const json j = query(promql);
    if (!j.is_object() || j["status"] != "success" || j["data"]["result"].size() != 1) return std::nullopt;
    return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
  }
  // Polls until the query returns exactly `expected` (up to 60 s: a loaded box, 1 s scrapes).
  bool waitForValue(const std::string& promql, double expected) const {
    return waitFor([&] { return value(promql) == expected; }, std::chrono::seconds(60));
  }
  bool waitForAtLeast(const std::string& promql, double minimum) const {
    return waitFor([&] { return value(promql).value_or(-1) >= minimum; }, std::chrono::seconds(60));
  }

 private:
  TempDir dir_;
  uint16_t port_;
  std::unique_ptr<Process> process_;
};

TEST(Prometheus, SeesServiceHealthIncidentCountsAndResponseTimes) {
  TempDir cmdb_dir;
  writeFile(cmdb_dir.file("cmdb.yaml"),
            "cis:\n"
            "  - id: app-1\n    class: server\n    criticality: 1\n    aliases: [app-1.example.net]\n"
            "  - id: checkout\n    name: Checkout\n    class: service\n    members: [app-1]\n");
  VigildInstance vigild("cmdb: {files: [" + cmdb_dir.file("cmdb.yaml") + "]}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const std::string base = vigild.url("");
  PrometheusServer prometheus(base.substr(base.find("//") + 2));
  ASSERT_TRUE(prometheus.start()) << prometheus.log();

  ASSERT_TRUE(prometheus.waitForValue(R"(up{job="vigil"})", 1)) << prometheus.log();
  ASSERT_TRUE(prometheus.waitForValue(R"(vigil_service_health{service="checkout"})", 0));

  // The only member fails: the service is down.
  ASSERT_EQ(httpPost(vigild.url("/api/v1/events"),
                     R"({"host":"app-1","type":"disk","state":"problem","severity":"critical","message":"disk full"})")
                .status,
            202);
  auto open = vigild.incidents("state=open");
  ASSERT_EQ(open.size(), 1u) << open.dump();
  const uint64_t id = open[0]["id"];
  ASSERT_EQ(open[0]["services"], json::array({"checkout"})) << open.dump();
  EXPECT_TRUE(prometheus.waitForValue(R"(vigil_service_health{service="checkout"})", 2));
  EXPECT_TRUE(prometheus.waitForValue(R"(vigil_service_open_incidents{service="checkout",severity="critical"})", 1));
  EXPECT_TRUE(prometheus.waitForValue(R"(vigil_incidents_open{state="open"})", 1));
  // Down time accrues on the correlator's tick while nothing else happens.
  EXPECT_TRUE(prometheus.waitForAtLeast(R"(vigil_service_down_seconds_total{service="checkout"})", 1.5));

  const std::string incident = vigild.url("/api/v1/incidents/" + std::to_string(id));
  ASSERT_EQ(httpPost(incident + "/ack", R"({"actor":"alice","comment":"on it"})").status, 200) << vigild.log();
  EXPECT_TRUE(prometheus.waitForValue(R"(vigil_incidents_open{state="acknowledged"})", 1));
  ASSERT_EQ(httpPost(incident + "/resolve", R"({"actor":"alice","comment":"disk cleaned"})").status, 200) << vigild.log();

  EXPECT_TRUE(prometheus.waitForValue(R"(vigil_service_health{service="checkout"})", 0));
  EXPECT_TRUE(prometheus.waitForValue(R"(vigil_service_open_incidents{service="checkout",severity="critical"})", 0));
  for (const char* change : {"opened", "acknowledged", "resolved"}) {
    EXPECT_TRUE(prometheus.waitForValue(
        std::string(R"(vigil_incidents_total{change=")") + change + R"(",severity="critical",priority="P1"})", 1))
        << change;
  }
  const std::string ack_count = R"(vigil_service_time_to_acknowledge_seconds_count{service="checkout",priority="P1"})";
  const std::string resolve_count = R"(vigil_service_time_to_resolve_seconds_count{service="checkout",priority="P1"})";
  EXPECT_TRUE(prometheus.waitForAtLeast(ack_count, 1));
  EXPECT_TRUE(prometheus.waitForAtLeast(resolve_count, 1));
  // One observation each, in the histogram's +Inf bucket too.
  EXPECT_TRUE(prometheus.waitForValue(
      R"(vigil_service_time_to_acknowledge_seconds_bucket{service="checkout",priority="P1",le="+Inf"})", 1));
  const double down = prometheus.value(R"(vigil_service_down_seconds_total{service="checkout"})").value_or(-1);
  EXPECT_GE(down, 1.5);
  // No longer down: the counter stops growing.
  EXPECT_TRUE(waitFor([&] {
    return prometheus.value(R"(changes(vigil_service_down_seconds_total{service="checkout"}[3s]))") == 0;
  }, std::chrono::seconds(60)));

  // The process and store collectors and build info are scraped too.
  EXPECT_TRUE(prometheus.waitForValue(R"(count(vigil_build_info{revision!="",compiler!=""}))", 1));
  EXPECT_GT(prometheus.value("process_resident_memory_bytes").value_or(0), 1e6);
  EXPECT_GT(prometheus.value("process_open_fds").value_or(0), 3);
  EXPECT_TRUE(prometheus.waitForValue(R"(count(vigil_store_live_sst_bytes))", 10));

  // Every family vigild exposes passes Prometheus's own lint (names, units, _total, help).
  std::string lint;
  EXPECT_EQ(run({"sh", "-c", "curl -sf " + vigild.url("/metrics") + " | " + VIGIL_PROMTOOL_PATH + " check metrics"}, &lint), 0)
      << lint;
  EXPECT_EQ(lint, "");

  // What a NOC dashboard would ask: the query result, as Prometheus answers it.
  std::printf("prometheus query result: %s\n",
              prometheus.query(R"(vigil_service_time_to_acknowledge_seconds_count{service="checkout"})").dump().c_str());
  std::printf("prometheus query result: %s\n",
              prometheus.query(R"(vigil_incidents_total{severity="critical"})").dump().c_str());
  std::printf("prometheus query result: %s\n",
              prometheus.query(R"(vigil_service_down_seconds_total{service="checkout"})").dump().c_str());

  EXPECT_EQ(prometheus.stop(), 0) << prometheus.log();
  EXPECT_EQ(vigild.stop(), 0);
}

}  // namespace
}  // namespace vigil::testing
