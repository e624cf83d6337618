// The scale-out read side with real vigild cores on the mock cluster (docs/scale-out.md, "Read
// side"): every core's API lists the incidents of every partition with the core that owns each;
// a command sent to a core that does not own the incident is applied once, by the owner, and
// seen from every core; an owner that does not answer gives a 503 that names it, with nothing
// applied; after kill -9 of an owner and the takeover, the API keeps answering and names the
// new owner. No sleeps: every wait is on a condition, with generous timeouts.
#include <csignal>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "tests/connectors/kafka/kafka_test_support.h"

namespace vigil::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr int kPartitions = 6;
constexpr int kHosts = 12;

// Forwarded commands may wait 10 s for an owner on a loaded box.
std::string coreYaml(const MockKafkaCluster& cluster, const std::string& extra = "") {
  return scaleoutCoreYaml(cluster, "  forward_timeout: 10s\n" + extra);
}

bool settled(const std::vector<const VigildInstance*>& cores) { return scaleoutSettled(cores, kPartitions); }

// id → owner as `core` lists them.
std::map<std::string, std::string> ownersOn(const VigildInstance& core) {
  std::map<std::string, std::string> owners;
  for (const auto& in : allIncidents(core)) {
    owners[std::to_string(in["id"].get<uint64_t>())] = in.value("owner", json()).is_string() ? in["owner"].get<std::string>() : "";
  }
  return owners;
}

// Every core lists the same `count` incidents, each under an owner from `owners`, which lists
// it as its own (so the owner is right, not merely agreed on).
bool everyCoreAgrees(const std::vector<const VigildInstance*>& cores, size_t count, std::map<std::string, std::string>* out) {
  std::set<std::string> urls;
  for (const auto* c : cores) urls.insert(c->url(""));
  std::map<std::string, std::string> first;
  for (const auto* c : cores) {
    auto owners = ownersOn(*c);
    if (owners.size() != count) return false;
    for (const auto& [id, owner] : owners) {
      if (!urls.contains(owner)) return false;
    }
    if (first.empty()) first = owners;
    if (owners != first) return false;
  }
  *out = first;
  return true;
}

int produceIncidents(MockKafkaCluster& cluster) {
  int produced = 0;
  for (int h = 0; h < kHosts; ++h) {
    const std::string host = "h" + std::to_string(h);
    if (!cluster.produce("ingest", host, {diskEvent(host, 0), diskEvent(host, 1)})) return produced;
    ++produced;
  }
  return produced;
}

const VigildInstance* byUrl(const std::vector<const VigildInstance*>& cores, const std::string& url) {
  for (const auto* c : cores) {
    if (c->url("") == url) return c;
  }
  return nullptr;
}

// The GET /api/v1/stream of a core, read by curl in the background.
class StreamReader {
 public:
  explicit StreamReader(const VigildInstance& core)
      : out_(core.dir().file("stream-" + std::to_string(freePort()) + ".txt")),
        curl_({"curl", "-sN", "--max-time", "120", core.url("/api/v1/stream")}, out_) {}
  ~StreamReader() { curl_.stop(SIGTERM); }
  bool connected() const { return readFile(out_).find(": connected") != std::string::npos; }
  std::vector<json> events() const {
    std::vector<json> events;
    const std::string text = readFile(out_);
    for (size_t pos = 0; (pos = text.find("data: ", pos)) != std::string::npos;) {
      const size_t end = text.find('\n', pos);
      if (end == std::string::npos) break;
      events.push_back(json::parse(text.substr(pos + 6, end - pos - 6), nullptr, false));
      pos = end;
    }
    return events;
  }

 private:
  std::string out_;
  Process curl_;
};

// One service over the twelve hosts, each host a CI.
std::string serviceCmdb(const TempDir& dir) {
  std::string yaml = "cis:\n";
  std::string members;
  for (int h = 0; h < kHosts; ++h) {
    yaml += "  - {id: h" + std::to_string(h) + ", class: server, aliases: [h" + std::to_string(h) + "]}\n";
    members += (h == 0 ? "" : ", ") + std::string("h") + std::to_string(h);
  }
  yaml += "  - {id: checkout, class: service, members: [" + members + "]}\n";
  writeFile(dir.file("cmdb.yaml"), yaml);
  return "cmdb: {files: [" + dir.file("cmdb.yaml") + "]}\n";
}

int countActions(const json& incident, const std::string& action) {
  int n = 0;
  for (const auto& t : incident["timeline"]) n += t["action"] == action ? 1 : 0;
  return n;
}

TEST(ScaleoutReadSide, EveryCoreListsEveryIncidentAndCommandsReachTheOwner) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  TempDir dir;
  const std::string cmdb = serviceCmdb(dir);
  std::vector<std::unique_ptr<VigildInstance>> owned;
  std::vector<const VigildInstance*> cores;
  for (int i = 0; i < 3; ++i) {
    owned.push_back(std::make_unique<VigildInstance>(cmdb + coreYaml(cluster)));
    ASSERT_TRUE(owned.back()->start()) << owned.back()->log();
    cores.push_back(owned.back().get());
  }
  ASSERT_TRUE(waitFor([&] { return settled(cores); }, seconds(60))) << cores[0]->log();
  ASSERT_EQ(produceIncidents(cluster), kHosts);
  std::map<std::string, std::string> owners;
  ASSERT_TRUE(waitFor([&] { return everyCoreAgrees(cores, kHosts, &owners); }, seconds(60)))
      << cores[0]->getJson("/api/v1/incidents?limit=100").dump();
  std::set<std::string> distinct_owners;
  for (const auto& [id, owner] : owners) distinct_owners.insert(owner);
  EXPECT_GE(distinct_owners.size(), 2u) << "the incidents should spread over the cores";
  // Service health counts the incidents of every partition on every core.
  for (const auto* c : cores) {
    ASSERT_TRUE(waitFor([&] {
      const json services = c->getJson("/api/v1/services")["services"];
      return services.size() == 1 && services[0]["members_affected"] == kHosts;
    }, seconds(30))) << c->getJson("/api/v1/services").dump();
  }

  // Pages and filters span every partition.
  for (const auto* c : cores) {
    std::vector<uint64_t> ids;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
      const json j = c->getJson("/api/v1/incidents?limit=5" + (cursor.empty() ? "" : "&cursor=" + cursor));
      for (const auto& in : j["incidents"]) ids.push_back(in["id"].get<uint64_t>());
      if (j["next_cursor"].is_null()) break;
      cursor = j["next_cursor"].get<std::string>();
    }
    ASSERT_EQ(ids.size(), static_cast<size_t>(kHosts));
    for (size_t i = 1; i < ids.size(); ++i) EXPECT_GT(ids[i - 1], ids[i]) << "pages out of order";
    for (int h = 0; h < kHosts; ++h) {
      const json found = c->incidents("host=h" + std::to_string(h));
      ASSERT_EQ(found.size(), 1u) << found.dump();
    }
  }

  // An acknowledge sent to a core that does not own the incident: applied once, by its owner.
  const auto& [id, owner_url] = *owners.begin();
  const VigildInstance* owner = byUrl(cores, owner_url);
  const VigildInstance* other = nullptr;
  for (const auto* c : cores) {
    if (c != owner) other = c;
  }
  ASSERT_NE(owner, nullptr);
  // The live stream of the core that does not own it shows the change as it happens.
  StreamReader stream(*other);
  ASSERT_TRUE(waitFor([&] { return stream.connected(); }, seconds(30)));
  const json ack = {{"actor", "alice"}, {"comment", "on it"}};
  auto answer = httpPost(other->url("/api/v1/incidents/" + id + "/ack"), ack.dump());
  ASSERT_EQ(answer.status, 200) << answer.body << answer.error;
  EXPECT_EQ(json::parse(answer.body)["state"], "acknowledged") << answer.body;
  // A second one is the owner's 409, relayed.
  answer = httpPost(other->url("/api/v1/incidents/" + id + "/ack"), ack.dump());
  EXPECT_EQ(answer.status, 409) << answer.body;
  EXPECT_EQ(metricValue(*other, "vigil_scaleout_forwarded_requests_total{result=\"answered\"}"), 2);
  // Every core's list (the read model for the others) shows it acknowledged, and only it.
  ASSERT_TRUE(waitFor([&] {
    for (const auto* c : cores) {
      const json listed = c->incidents("state=acknowledged");
      if (listed.size() != 1 || std::to_string(listed[0]["id"].get<uint64_t>()) != id) return false;
    }
    return true;
  }, seconds(30)));
  std::vector<json> live;
  ASSERT_TRUE(waitFor([&] { return !(live = stream.events()).empty(); }, seconds(30)));
  ASSERT_EQ(live.size(), 1u) << live.back().dump();
  EXPECT_EQ(live[0]["change"], "acknowledged");
  EXPECT_EQ(std::to_string(live[0]["incident"]["id"].get<uint64_t>()), id);
  EXPECT_EQ(live[0]["incident"]["owner"], owner_url);
  EXPECT_TRUE(live[0]["seq"].is_number_unsigned());
  const json on_owner = owner->getJson("/api/v1/incidents/" + id);
  EXPECT_EQ(countActions(on_owner, "acknowledged"), 1) << on_owner.dump();
  EXPECT_EQ(on_owner["owner"], owner_url);
  // A non-owner answers a single incident with the owner's timeline.
  const json via_other = other->getJson("/api/v1/incidents/" + id);
  EXPECT_EQ(via_other["owner"], owner_url);
  EXPECT_EQ(countActions(via_other, "acknowledged"), 1) << via_other.dump();
}

// A core whose advertised URL leads nowhere: commands on its incidents get a 503 naming it from
// the other cores, and are not applied anywhere.
TEST(ScaleoutReadSide, AnOwnerThatDoesNotAnswerGivesA503NamingIt) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(freePort());
  VigildInstance lone(coreYaml(cluster, "  advertised_url: " + nowhere + "\n"));
  ASSERT_TRUE(lone.start()) << lone.log();
  ASSERT_TRUE(waitFor([&] { return settled({&lone}); }, seconds(60))) << lone.log();
  VigildInstance viewer(coreYaml(cluster));
  ASSERT_TRUE(viewer.start()) << viewer.log();
  // The viewer joins the group and takes some partitions; the lone core keeps the rest.
  ASSERT_TRUE(waitFor([&] {
    return settled({&lone, &viewer}) && metricValue(viewer, "vigil_scaleout_owned_partitions") > 0 &&
           metricValue(lone, "vigil_scaleout_owned_partitions") > 0;
  }, seconds(60))) << viewer.log();
  ASSERT_EQ(produceIncidents(cluster), kHosts);
  std::string id;
  ASSERT_TRUE(waitFor([&] {
    const auto owners = ownersOn(viewer);
    if (owners.size() != static_cast<size_t>(kHosts)) return false;
    for (const auto& [i, o] : owners) {
      if (o == nowhere) id = i;
    }
    return !id.empty();
  }, seconds(60))) << viewer.log();
  const auto answer = httpPost(viewer.url("/api/v1/incidents/" + id + "/ack"), "{}");
  EXPECT_EQ(answer.status, 503) << answer.body;
  EXPECT_NE(answer.body.find("owned by " + nowhere), std::string::npos) << answer.body;
  EXPECT_EQ(metricValue(viewer, "vigil_scaleout_forwarded_requests_total{result=\"unreachable\"}"), 1);
  EXPECT_EQ(lone.getJson("/api/v1/incidents/" + id)["state"], "open");
  // A single incident still answers, from the read model (without timeline).
  const json copy = viewer.getJson("/api/v1/incidents/" + id);
  EXPECT_EQ(copy["owner"], nowhere) << copy.dump();
  EXPECT_EQ(copy["state"], "open");
}

// With API tokens: the forwarded command carries the caller's token, so the owner records who
// acted; a caller the first core refuses never reaches the owner.
TEST(ScaleoutReadSide, ForwardedCommandsActWithTheCallersToken) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  const std::string viewer_token = "viewer-token-readside-0001";
  const std::string operator_token = "operator-token-readside-0001";
  const std::string tokens = "  tokens:\n"
                             "    - {name: wall, token: " + viewer_token + ", role: viewer}\n"
                             "    - {name: ops-alice, token: " + operator_token + ", role: operator}\n";
  VigildInstance a(coreYaml(cluster), tokens);
  ASSERT_TRUE(a.start()) << a.log();
  ASSERT_TRUE(waitFor([&] { return settled({&a}); }, seconds(60))) << a.log();
  VigildInstance b(coreYaml(cluster), tokens);
  ASSERT_TRUE(b.start()) << b.log();
  ASSERT_TRUE(waitFor([&] {
    return settled({&a, &b}) && metricValue(a, "vigil_scaleout_owned_partitions") > 0 &&
           metricValue(b, "vigil_scaleout_owned_partitions") > 0;
  }, seconds(60))) << b.log();
  ASSERT_EQ(produceIncidents(cluster), kHosts);
  // An incident of a's that b lists.
  std::string id;
  ASSERT_TRUE(waitFor([&] {
    const auto page = httpGet(b.url("/api/v1/incidents?limit=100"), viewer_token);
    const json j = json::parse(page.body, nullptr, false);
    if (!j.is_object() || j["incidents"].size() != static_cast<size_t>(kHosts)) return false;
    for (const auto& in : j["incidents"]) {
      if (in["owner"] == a.url("")) id = std::to_string(in["id"].get<uint64_t>());
    }
    return !id.empty();
  }, seconds(60))) << b.log();
  const std::string path = "/api/v1/incidents/" + id + "/ack";
  EXPECT_EQ(httpPost(b.url(path), "{}").status, 401);
  EXPECT_EQ(httpPost(b.url(path), "{}", viewer_token).status, 403);
  const auto answer = httpPost(b.url(path), R"({"actor":"mallory"})", operator_token);
  ASSERT_EQ(answer.status, 200) << answer.body;
  const json on_owner = json::parse(httpGet(a.url("/api/v1/incidents/" + id), viewer_token).body);
  ASSERT_EQ(countActions(on_owner, "acknowledged"), 1) << on_owner.dump();
  for (const auto& t : on_owner["timeline"]) {
    if (t["action"] == "acknowledged") {
      EXPECT_EQ(t["actor"], "ops-alice") << on_owner.dump();
    }
  }
}

TEST(ScaleoutReadSide, AfterKillNineTheApiNamesTheNewOwner) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  std::vector<std::unique_ptr<VigildInstance>> owned;
  std::vector<const VigildInstance*> cores;
  for (int i = 0; i < 3; ++i) {
    owned.push_back(std::make_unique<VigildInstance>(coreYaml(cluster)));
    ASSERT_TRUE(owned.back()->start()) << owned.back()->log();
    cores.push_back(owned.back().get());
  }
  ASSERT_TRUE(waitFor([&] { return settled(cores); }, seconds(60))) << cores[0]->log();
  ASSERT_EQ(produceIncidents(cluster), kHosts);
  std::map<std::string, std::string> owners;
  ASSERT_TRUE(waitFor([&] { return everyCoreAgrees(cores, kHosts, &owners); }, seconds(60)));
  // The victim: the owner of the first incident.
  const std::string victim_url = owners.begin()->second;
  const std::string moved_id = owners.begin()->first;
  size_t victim = 0;
  while (cores[victim]->url("") != victim_url) ++victim;
  ASSERT_EQ(owned[victim]->kill(), -SIGKILL);
  std::vector<const VigildInstance*> survivors;
  for (size_t i = 0; i < cores.size(); ++i) {
    if (i != victim) survivors.push_back(cores[i]);
  }
  ASSERT_TRUE(waitFor([&] { return settled(survivors); }, seconds(120))) << survivors[0]->log();
  std::map<std::string, std::string> after;
  ASSERT_TRUE(waitFor([&] { return everyCoreAgrees(survivors, kHosts, &after); }, seconds(60)))
      << survivors[0]->getJson("/api/v1/incidents?limit=100").dump();
  EXPECT_NE(after[moved_id], victim_url);
  for (const auto& [id, owner] : owners) {
    if (owner != victim_url) {
      EXPECT_EQ(after[id], owner) << "incident " << id << " moved without a reason";
    }
  }
  // A command through the core that did not take it over reaches the new owner.
  const VigildInstance* new_owner = byUrl(survivors, after[moved_id]);
  const VigildInstance* other = survivors[0] == new_owner ? survivors[1] : survivors[0];
  const auto answer = httpPost(other->url("/api/v1/incidents/" + moved_id + "/resolve"), R"({"actor":"bob"})");
  ASSERT_EQ(answer.status, 200) << answer.body;
  ASSERT_TRUE(waitFor([&] { return other->getJson("/api/v1/incidents/" + moved_id).value("state", "") == "resolved"; },
                      seconds(30)));
  EXPECT_EQ(new_owner->getJson("/api/v1/incidents/" + moved_id)["state"], "resolved");
}

}  // namespace
}  // namespace vigil::testing
