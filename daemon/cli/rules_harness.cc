#include "daemon/cli/rules_harness.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <future>

#include "connectors/syslog/syslog_event.h"
#include "connectors/syslog/syslog_parser.h"

namespace vigil::cli {

std::string_view outcomeName(incidents::ApplyOutcome outcome) {
  switch (outcome) {
    case incidents::ApplyOutcome::kIgnored: return "ignored";
    case incidents::ApplyOutcome::kDropped: return "dropped";
    case incidents::ApplyOutcome::kOpened: return "opened";
    case incidents::ApplyOutcome::kUpdated: return "updated";
    case incidents::ApplyOutcome::kResolved: return "resolved";
    case incidents::ApplyOutcome::kUnmatchedResolve: return "unmatched_resolve";
    case incidents::ApplyOutcome::kSymptom: return "symptom";
    case incidents::ApplyOutcome::kHeld: return "held";
  }
  return "ignored";
}

Result<std::vector<Event>> parseInputLine(std::string_view line, std::string_view format, TimePoint now,
                                          EventDecoder& decoder) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  const size_t first = line.find_first_not_of(" \t");
  const bool json = format == "json" || (format == "auto" && first != std::string_view::npos && line[first] == '{');
  std::vector<Event> events;
  if (json) {
    if (Status s = decoder.decode(line, "rules-test", now, events); !s.isOk()) return fail(s);
    return events;
  }
  namespace syslog = connectors::syslog;
  Event event;
  auto parsed = syslog::parseSyslog(line, now);
  if (parsed) {
    syslog::toEvent(*parsed, "udp", "127.0.0.1", now, event);
  } else if (syslog::isUsableText(line)) {
    syslog::rawToEvent(line, parsed.error(), "udp", "127.0.0.1", now, event);
  } else {
    return fail(Status::invalidArgument("not a syslog message: " + std::string(syslog::parseErrorName(parsed.error()))));
  }
  events.push_back(std::move(event));
  return events;
}

// Copies the decision of the one event in flight; the commit callback orders it before the
// reader (the promise's happens-before).
class RulesHarness::Observer final : public EventHook {
 public:
  void afterIncidentStep(const Event& event, const rules::RuleSet& rules, const rules::Decision& decision,
                         incidents::ApplyOutcome outcome) override {
    EventTrace t;
    t.event = event;
    t.decision = decision;
    t.outcome = outcome;
    for (uint32_t i : decision.matched) t.matched.push_back(rules.rules()[i].name);
    traces.push_back(std::move(t));
  }
  std::vector<EventTrace> traces;
};

Result<std::unique_ptr<RulesHarness>> RulesHarness::start(std::shared_ptr<const rules::RuleSet> rules,
                                                          std::shared_ptr<const cmdb::CiSnapshot> cmdb,
                                                          PipelineOptions options, TimePoint start) {
  std::unique_ptr<RulesHarness> h(new RulesHarness());
  std::string pattern = (std::filesystem::temp_directory_path() / "vigilctl-rules-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return fail(Status::ioError("cannot create a temporary directory"));
  h->dir_ = pattern;
  h->now_ = start.time_since_epoch().count();
  store::StoreOptions store_options;
  store_options.path = h->dir_ + "/store";
  store_options.sync = false;  // thrown away afterwards
  auto store = store::Store::open(store_options);
  if (!store) return fail(store.error());
  h->store_ = std::move(*store);
  h->registry_ = std::make_unique<metrics::MetricsRegistry>();
  h->metrics_ = std::make_unique<metrics::PipelineMetrics>(h->registry_->registry());
  options.clock = [harness = h.get()] { return harness->now(); };
  options.heartbeat = nullptr;
  h->correlator_ = Correlator::build({options, std::move(rules), std::move(cmdb), *h->store_, *h->metrics_,
                                      h->registry_->registry()});
  h->observer_ = std::make_unique<Observer>();
  h->correlator_->pipeline().addEventHook(h->observer_.get());
  if (Status s = h->correlator_->pipeline().start(); !s.isOk()) return fail(s);
  return h;
}

RulesHarness::~RulesHarness() {
  correlator_.reset();
  store_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

Status RulesHarness::pushAndWait(connectors::EventBatch batch) {
  auto done = std::make_shared<std::promise<Status>>();
  auto committed = done->get_future();
  batch.on_commit = [done](const Status& s) { done->set_value(s); };
  if (!correlator_->pipeline().push(std::move(batch))) return Status::unavailable("the correlator stopped");
  return committed.get();
}

Status RulesHarness::advanceTo(TimePoint t) {
  if (t > now()) now_ = t.time_since_epoch().count();
  return pushAndWait({});
}

Result<EventTrace> RulesHarness::feed(Event event) {
  if (event.time() > now()) now_ = event.time().time_since_epoch().count();
  observer_->traces.clear();
  connectors::EventBatch batch;
  batch.events.push_back(std::move(event));
  if (Status s = pushAndWait(std::move(batch)); !s.isOk()) return fail(s);
  if (observer_->traces.size() != 1) return fail(Status::internal("the correlator did not report the event"));
  return std::move(observer_->traces.front());
}

Result<std::vector<incidents::Incident>> RulesHarness::finish() {
  correlator_->pipeline().stop();
  std::vector<incidents::Incident> out;
  Status s = store_->scanIncidents(0, [&](incidents::Incident&& in) {
    out.push_back(std::move(in));
    return true;
  });
  if (!s.isOk()) return fail(s);
  std::reverse(out.begin(), out.end());  // the store scans newest first
  return out;
}

}  // namespace vigil::cli
