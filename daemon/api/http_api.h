// HttpApi: vigild's HTTP surface on RESTinio — the JSON API under /api/v1/, /metrics, /healthz,
// /readyz and the board at /. Reads come straight from the store (committed state only); event
// intake goes through the pipeline and is answered 202 only after its batch is committed.
// Thread-safety: start()/stop() on the main thread; handlers run on the io threads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/config/daemon_config.h"
#include "daemon/metrics/metrics.h"
#include "daemon/pipeline.h"
#include "daemon/status.h"
#include "daemon/store/store.h"

namespace asio {
class io_context;
}  // namespace asio

namespace vigil {
class ShadowRules;
}  // namespace vigil

namespace vigil::api {

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
  // Feeds the live stream (GET /api/v1/stream). REQUIRES: registered before the pipeline starts.
  ChangeListener& streamListener();
  // Serves /api/v1/rules/shadow from `shadow`. REQUIRES: before start().
  void setShadowRules(ShadowRules* shadow);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::api
