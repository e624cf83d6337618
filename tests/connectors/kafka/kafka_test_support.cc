#include "tests/connectors/kafka/kafka_test_support.h"

#include <csignal>
#include <sstream>

namespace vigil::testing {

MockKafkaCluster::MockKafkaCluster(std::vector<std::string> topics, bool start_down) {
  std::vector<std::string> argv = {VIGIL_MOCK_KAFKA_PATH};
  if (start_down) argv.push_back("--down");
  for (auto& t : topics) argv.push_back(std::move(t));
  const std::string log = dir_.file("mock.log");
  process_ = std::make_unique<Process>(argv, log);
  waitFor([&] {
    const std::string text = readFile(log);
    const auto nl = text.find('\n');
    if (nl != std::string::npos) bootstrap_ = text.substr(0, nl);
    return !bootstrap_.empty() || !process_->running();
  }, std::chrono::seconds(20));
}

MockKafkaCluster::~MockKafkaCluster() {
  if (process_ && process_->running()) process_->stop(SIGTERM, std::chrono::seconds(10));
}

void MockKafkaCluster::setDown(bool down) { ::kill(process_->pid(), down ? SIGUSR1 : SIGUSR2); }

bool MockKafkaCluster::produce(const std::string& topic, const std::string& key,
                               const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  const std::string file = dir_.file("produce.txt");
  writeFile(file, text);
  std::string out;
  // -l: one message per line; a failed delivery makes kcat exit non-zero.
  return run({"kcat", "-b", bootstrap_, "-P", "-q", "-t", topic, "-k", key, "-l", "-X", "linger.ms=20", file},
             &out) == 0;
}

bool MockKafkaCluster::produceKeyed(const std::string& topic,
                                    const std::vector<std::pair<std::string, std::string>>& messages) {
  std::string text;
  for (const auto& [key, value] : messages) text += key + "\t" + value + "\n";
  const std::string file = dir_.file("produce-keyed.txt");
  writeFile(file, text);
  std::string out;
  return run({"kcat", "-b", bootstrap_, "-P", "-q", "-Z", "-t", topic, "-K", "\t", "-l", "-X", "linger.ms=20", file},
             &out) == 0;
}

std::vector<MockKafkaCluster::Message> MockKafkaCluster::consumeAll(const std::string& topic) {
  std::string out;
  // \x1f separates fields, \x1e records: neither occurs in JSON text.
  run({"kcat", "-b", bootstrap_, "-C", "-q", "-e", "-t", topic, "-f", "%k\x1f%h\x1f%s\x1e"}, &out);
  std::vector<Message> messages;
  size_t start = 0;
  for (size_t end; (end = out.find('\x1e', start)) != std::string::npos; start = end + 1) {
    const std::string rec = out.substr(start, end - start);
    const auto a = rec.find('\x1f');
    const auto b = rec.find('\x1f', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    messages.push_back({rec.substr(0, a), rec.substr(b + 1), rec.substr(a + 1, b - a - 1)});
  }
  return messages;
}

std::string kafkaYaml(const MockKafkaCluster& cluster, const std::string& topics, const std::string& extra) {
  return "kafka:\n"
         "  brokers: " + cluster.bootstrap() + "\n"
         "  topics: [" + topics + "]\n"
         "  group: vigil-test\n"
         "  lag_interval: 200ms\n"
         "  properties: {session.timeout.ms: '6000', heartbeat.interval.ms: '500',"
         " topic.metadata.refresh.interval.ms: '1000', reconnect.backoff.max.ms: '500'}\n" + extra;
}

std::string scaleoutCoreYaml(const MockKafkaCluster& cluster, const std::string& extra) {
  return kafkaYaml(cluster, "ingest") +
         "scaleout:\n"
         "  role: core\n"
         "  ingest_topic: ingest\n"
         "  changelog_topic: changelog\n" + extra;
}

bool scaleoutSettled(const std::vector<const VigildInstance*>& cores, int partitions) {
  double sum = 0;
  for (const auto* c : cores) {
    const double owned = metricValue(*c, "vigil_scaleout_owned_partitions");
    if (owned < 0) return false;
    sum += owned;
  }
  return sum == partitions;
}

std::vector<nlohmann::json> allIncidents(const VigildInstance& vigild) {
  std::vector<nlohmann::json> out;
  std::string cursor;
  for (int page = 0; page < 10000; ++page) {
    auto j = vigild.getJson("/api/v1/incidents?limit=100" + (cursor.empty() ? "" : "&cursor=" + cursor));
    if (!j.is_object()) break;
    for (auto& in : j["incidents"]) out.push_back(in);
    if (j["next_cursor"].is_null()) break;
    cursor = j["next_cursor"].is_string() ? j["next_cursor"].get<std::string>() : j["next_cursor"].dump();
  }
  return out;
}

uint64_t sumEventCounts(const VigildInstance& vigild) {
  uint64_t sum = 0;
  for (const auto& in : allIncidents(vigild)) sum += in["event_count"].get<uint64_t>();
  return sum;
}

std::string diskEvent(const std::string& host, int n) {
  return R"({"host":")" + host + R"(","type":"disk","state":"problem","severity":"major","message":"n)" +
         std::to_string(n) + R"("})";
}

}  // namespace vigil::testing
