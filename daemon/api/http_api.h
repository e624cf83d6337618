// HttpApi: vigild's HTTP surface on RESTinio — the JSON API under /api/v1/, /metrics, /healthz,
// /readyz and the board at /. Reads come straight from the store (committed state only); event
// intake goes through the pipeline and is answered 202 only after its batch is committed.
// Thread-safety: start()/stop() on the main thread; handlers run on the io threads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "daemon/config/daemon_config.h"
#include "daemon/metrics/metrics.h"
#include "daemon/pipeline.h"
#include "daemon/status.h"
#include "daemon/store/store.h"

namespace asio {
class io_context;
}  // namespace asio

namespace vigil::maintenance {
class MaintenanceManager;
}  // namespace vigil::maintenance
namespace vigil::verdicts {
class VerdictLog;
}  // namespace vigil::verdicts
namespace vigil {
class ShadowRules;
}  // namespace vigil

namespace vigil::api {

class PeerForwarder;
class ReadSide;

class HttpApi {
 public:
  HttpApi(const config::HttpConfig& config, asio::io_context& io, Pipeline& pipeline,
          const store::Store& store, metrics::MetricsRegistry& metrics);
  ~HttpApi();

  // Binds and starts serving. REQUIRES: the io_context is being run by some thread.
  Status start();
  void stop();
  // "http://HOST:PORT" as bound (the real port when the config said 0).
  std::string endpoint() const;
  // /readyz answers 200 only when this is set, the pipeline commits and `not_ready_sources`
  // (if given) names no source.
  void setReady(bool ready, std::function<std::vector<std::string>()> not_ready_sources = {});
  // Serves /api/v1/maintenance and gives POSTed events their ids. REQUIRES: before start().
  void setMaintenance(maintenance::MaintenanceManager* maintenance, verdicts::VerdictLog* verdicts);
  // Feeds the live stream (GET /api/v1/stream). REQUIRES: registered before the pipeline starts.
  ChangeListener& streamListener();
  // An admin action at POST `path` (admin role): gets the JSON body (null when empty), returns
  // the HTTP status and the JSON answer. Runs on an io thread. REQUIRES: called before start().
  using AdminAction = std::function<std::pair<int, nlohmann::json>(const nlohmann::json& body)>;
  void addAdminAction(std::string path, AdminAction action);
  // The same for any role and GET or POST: a GET action gets the query parameters as a JSON
  // object of strings (a repeated parameter: an array of them). `actor` is the token's name
  // ("anonymous" without tokens). REQUIRES: called before start().
  enum class Method : uint8_t { kGet, kPost };
  using Action = std::function<std::pair<int, nlohmann::json>(const nlohmann::json& input, const std::string& actor)>;
  void addAction(Method method, std::string path, Role role, Action action);
  // Swaps the API token table (config reload).
  void setTokens(std::vector<ApiToken> tokens);
  // Serves /api/v1/rules/shadow from `shadow`. REQUIRES: before start().
  void setShadowRules(ShadowRules* shadow);
  // Scale-out core: lists the incidents of other cores' partitions from `read_side` (each
  // incident then names its "owner") and forwards commands on them to their owner through
  // `forwarder`; GET /api/v1/stream and /api/v1/services cover every partition too
  // (docs/scale-out.md, "Read side"). Both outlive the API. REQUIRES: before start().
  void setReadSide(ReadSide* read_side, PeerForwarder* forwarder);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::api
