// The only translation unit that includes RESTinio: it costs ~40 s and ~1 GB to compile.
#include "daemon/api/http_api.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>
#include <restinio/all.hpp>
#include <restinio/tls.hpp>
#include <spdlog/spdlog.h>

#include "connectors/http/alert_payloads.h"
#include "daemon/api/auth.h"
#include "daemon/api/intake_answer.h"
#include "daemon/api/parse_number.h"
#include "daemon/api/peer_forwarder.h"
#include "daemon/api/read_side.h"
#include "daemon/api/rate_limiter.h"
#include "daemon/api/rejected_requests.h"
#include "daemon/cmdb/service_health.h"
#include "daemon/cmdb/topology.h"
#include "daemon/event_json.h"
#include "daemon/maintenance/maintenance_api.h"
#include "daemon/verdicts/verdict_log.h"
#include "daemon/rules_runtime/shadow_rules.h"
#include "web/board_html.h"

namespace vigil::api {

namespace {

using nlohmann::json;
using Router = restinio::router::express_router_t<>;

struct Traits : public restinio::default_traits_t {
  using request_handler_t = Router;
  static constexpr bool use_connection_count_limiter = true;
};
using Server = restinio::http_server_t<Traits>;
struct TlsTraits : public restinio::tls_traits_t<restinio::asio_timer_manager_t, restinio::null_logger_t, Router> {
  static constexpr bool use_connection_count_limiter = true;
};
using TlsServer = restinio::http_server_t<TlsTraits>;
using Request = restinio::request_handle_t;

// Holds closed servers for as long as their io_context lives: an io_context service is destroyed
// only after the io_context has destroyed its pending handlers (see HttpApi::Impl::stop()).
class ClosedServerKeeper final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;
  explicit ClosedServerKeeper(asio::execution_context& context) : asio::execution_context::service(context) {}
  void keep(std::shared_ptr<void> server) {
    std::lock_guard lock(mu_);
    servers_.push_back(std::move(server));
  }

 private:
  void shutdown() override {}
  std::mutex mu_;
  std::vector<std::shared_ptr<void>> servers_;  // GUARDED_BY(mu_)
};

// A body already rendered (possibly off the thread that answers).
restinio::request_handling_status_t sendJsonBody(const Request& req, restinio::http_status_line_t status,
                                                 std::string body) {
  return req->create_response(std::move(status))
      .append_header(restinio::http_field::content_type, "application/json")
      .append_header("Cache-Control", "no-store")
      .set_body(std::move(body))
      .done();
}

restinio::request_handling_status_t sendJson(const Request& req, restinio::http_status_line_t status,
                                             const json& body) {
  return sendJsonBody(req, std::move(status), body.dump(-1, ' ', false, json::error_handler_t::replace));
}

restinio::request_handling_status_t sendError(const Request& req, restinio::http_status_line_t status,
                                              std::string_view message) {
  const auto code = status.status_code().raw_code();
  api::countRejectedRequest(code);
  return sendJson(req, std::move(status), {{"error", {{"code", code}, {"message", message}}}});
}

restinio::request_handling_status_t sendAnswer(const Request& req, const maintenance::ApiAnswer& answer) {
  auto line = [](int status) {
    switch (status) {
      case 200: return restinio::status_ok();
      case 201: return restinio::status_created();
      case 400: return restinio::status_bad_request();
      case 404: return restinio::status_not_found();
      case 409: return restinio::status_conflict();
      case 503: return restinio::status_service_unavailable();
      default: return restinio::status_internal_server_error();
    }
  };
  api::countRejectedRequest(static_cast<unsigned>(answer.status));
  return sendJson(req, line(answer.status), answer.body);
}

restinio::http_status_line_t statusFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return restinio::status_bad_request();
    case Status::Code::kNotFound: return restinio::status_not_found();
    case Status::Code::kFailedPrecondition:
    case Status::Code::kAlreadyExists: return restinio::status_conflict();
    case Status::Code::kResourceExhausted:
    case Status::Code::kUnavailable: return restinio::status_service_unavailable();
    default: return restinio::status_internal_server_error();
  }
}

// Filters of GET /api/v1/incidents.
struct IncidentQuery {
  std::optional<incidents::IncidentState> state;
  std::optional<Severity> severity;
  uint8_t priority = 0;  // 0: any
  bool roots_only = false;  // leave out symptoms (incidents with a parent)
  std::string ci, host, key, group, service, text;
  size_t limit = 100;
  incidents::IncidentId cursor = 0;

  bool matches(const incidents::Incident& in) const {
    if (state && in.state != *state) return false;
    if (severity && in.severity != *severity) return false;
    if (priority != 0 && in.priority != priority) return false;
    if (roots_only && in.parent) return false;
    if (!service.empty() && std::find(in.services.begin(), in.services.end(), service) == in.services.end()) return false;
    if (!ci.empty() && in.ci != ci) return false;
    if (!host.empty() && in.host != host) return false;
    if (!key.empty() && in.key != key) return false;
    if (!group.empty() && in.assignment_group != group) return false;
    if (!text.empty() && in.title.find(text) == std::string::npos) return false;
    return true;
  }
};

// The live stream: server-sent events of committed incident changes, read from the store's change
// log so a client that reconnects with Last-Event-ID gets exactly what it missed.
// Thread-safety: subscribers_ under mu_; the correlator only posts a wake-up to the io threads.
class StreamHub final : public ChangeListener {
 public:
  using Response = restinio::response_builder_t<restinio::chunked_output_t>;

  StreamHub(asio::io_context& io, const store::Store& store) : io_(io), store_(store), heartbeat_(io) {}

  void subscribe(Response response, uint64_t after_seq) {
    auto sub = std::make_shared<Subscriber>(std::move(response), after_seq);
    // A retry hint and a comment open the stream at once, so the client knows it is connected.
    sub->response.append_chunk(std::string("retry: 2000\n: connected\n\n"));
    std::lock_guard lock(mu_);
    subscribers_.push_back(sub);
    pump(sub);
    if (subscribers_.size() == 1) scheduleHeartbeat();
  }

  // A scale-out core streams the read side's feed of every partition instead of its own change
  // log. REQUIRES: before start().
  void setFeed(ReadSide* feed) {
    feed_ = feed;
    feed_->setFeedListener([this] { wake(); });
  }
  uint64_t lastSeq() const { return feed_ != nullptr ? feed_->lastFeedSeq() : store_.lastChangeSeq(); }

  // ChangeListener: called on the pipeline's committer thread after a commit.
  void onCommitted(const incidents::ChangeSet& changes) override {
    if (!changes.changes.empty() && feed_ == nullptr) wake();
  }

 private:
  // Pumps every subscriber on an io thread; wake-ups while one is pending fold into it.
  void wake() {
    if (pending_.exchange(true)) return;
    asio::post(io_, [this] {
      pending_ = false;
      std::lock_guard lock(mu_);
      for (auto& sub : subscribers_) pump(sub);
      dropClosed();
    });
  }


 public:
  void stop() {
    std::lock_guard lock(mu_);
    heartbeat_.cancel();
    for (auto& sub : subscribers_) {
      if (!sub->closed) sub->response.done();
    }
    subscribers_.clear();
  }

 private:
  struct Subscriber {
    Subscriber(Response r, uint64_t after) : response(std::move(r)), last_seq(after) {}
    Response response;
    uint64_t last_seq = 0;
    std::atomic<bool> closed{false};
  };

  // REQUIRES: mu_ held.
  void pump(const std::shared_ptr<Subscriber>& subscriber) {
    Subscriber& sub = *subscriber;
    if (sub.closed) return;
    std::string chunk;
    // Bounded per pump; the next commit or heartbeat continues a long backlog.
    auto add = [&](uint64_t seq, const std::string& json) {
      chunk += "id: " + std::to_string(seq) + "\nevent: incident\ndata: " + json + "\n\n";
      sub.last_seq = seq;
    };
    if (feed_ != nullptr) {
      feed_->readFeed(sub.last_seq, 500, add);
    } else if (Status s = store_.readChanges(sub.last_seq, 500, [&](const store::ChangeRecord& r) {
                 add(r.seq, r.json);
                 return true;
               });
               !s.isOk()) {
      spdlog::warn("stream: {}", s.toString());
    }
    if (!chunk.empty()) sub.response.append_chunk(std::move(chunk));
    std::weak_ptr<Subscriber> weak = subscriber;
    sub.response.flush([weak](const asio::error_code& ec) {
      if (auto s = weak.lock(); s && ec) s->closed = true;  // the client went away; dropped at the next pump
    });
  }

  void dropClosed() {
    subscribers_.remove_if([](const auto& sub) { return sub->closed.load(); });
  }

  // Keeps idle connections alive through proxies and finds clients that are gone.
  void scheduleHeartbeat() {
    heartbeat_.expires_after(std::chrono::seconds(15));
    heartbeat_.async_wait([this](const asio::error_code& ec) {
      if (ec) return;
      std::lock_guard lock(mu_);
      for (auto& sub : subscribers_) {
        if (sub->closed) continue;
        sub->response.append_chunk(std::string(": ping\n\n"));
        pump(sub);
      }
      dropClosed();
      if (!subscribers_.empty()) scheduleHeartbeat();
    });
  }

  asio::io_context& io_;
  const store::Store& store_;
  ReadSide* feed_ = nullptr;  // set before start()
  std::atomic<bool> pending_{false};
  std::mutex mu_;
  std::list<std::shared_ptr<Subscriber>> subscribers_;  // GUARDED_BY(mu_)
  asio::steady_timer heartbeat_;                        // GUARDED_BY(mu_)
};

}  // namespace

class HttpApi::Impl {
 public:
  Impl(const config::HttpConfig& config, asio::io_context& io, Pipeline& pipeline,
       const store::Store& store, metrics::MetricsRegistry& metrics)
      : config_(config),
        io_(io),
        pipeline_(pipeline),
        store_(store),
        metrics_(metrics),
        auth_(config.tokens),
        limiter_(config.rate_limit),
        stream_(io, store) {
    metrics.addCollectable(api::makeRejectedRequestsCollector());
  }

  Status start() {
    if (!config_.tls) {
      restinio::server_settings_t<Traits> settings;
      configure(settings);
      server_ = std::make_unique<Server>(restinio::external_io_context(io_), std::move(settings));
      return open(*server_);
    }
    restinio::server_settings_t<TlsTraits> settings;
    configure(settings);
    try {
      asio::ssl::context tls(asio::ssl::context::tls_server);
      tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
      tls.use_certificate_chain_file(config_.tls->cert);
      tls.use_private_key_file(config_.tls->key, asio::ssl::context::pem);
      if (!config_.tls->client_ca.empty()) {
        tls.load_verify_file(config_.tls->client_ca);
        tls.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
      }
      settings.tls_context(std::move(tls));
    } catch (const std::exception& e) {
      return Status::invalidArgument("http.tls: " + std::string(e.what()));
    }
    tls_server_ = std::make_unique<TlsServer>(restinio::external_io_context(io_), std::move(settings));
    return open(*tls_server_);
  }

  template <typename Settings>
  void configure(Settings& settings) {
    settings.address(config_.host)
        .port(config_.port)
        .max_parallel_connections(config_.max_connections)
        .read_next_http_message_timelimit(config_.read_timeout)
        // RESTinio drops the connection past its limit without an answer, so its
        // hard limit sits above ours and guarded() answers 413 in between.
        .incoming_http_msg_limits(
            restinio::incoming_http_msg_limits_t{}.max_body_size(config_.max_body_bytes * 2))
        .acceptor_post_bind_hook([this](asio::ip::tcp::acceptor& acceptor) {
          bound_port_ = acceptor.local_endpoint().port();
        })
        .request_handler(makeRouter());
  }

  template <typename ServerType>
  Status open(ServerType& server) {
    std::promise<Status> opened;
    server.open_async([&] { opened.set_value(Status::ok()); },
                        [&](std::exception_ptr ex) {
                          try {
                            std::rethrow_exception(ex);
                          } catch (const std::exception& e) {
                            opened.set_value(Status::ioError("cannot listen on " + config_.host + ":" +
                                                             std::to_string(config_.port) + ": " + e.what()));
                          }
                        });
    return opened.get_future().get();
  }

  void stop() {
    if (!server_ && !tls_server_) return;
    stream_.stop();
    std::promise<void> closed;
    auto done = [&] { closed.set_value(); };
    auto failed = [&](std::exception_ptr) { closed.set_value(); };
    if (server_) server_->close_async(done, failed);
    if (tls_server_) tls_server_->close_async(done, failed);
    closed.get_future().wait();
    // Connections still open (keep-alive clients) outlive the close as pending handlers of the
    // io_context; when it destroys them, each decrements the connection limiter inside its
    // server. So the io_context keeps the closed server until then (a use-after-free at every
    // shutdown with an open connection, found by scripts/sanitize-tests).
    auto& keeper = asio::use_service<ClosedServerKeeper>(io_);
    if (server_) keeper.keep(std::shared_ptr<Server>(std::move(server_)));
    if (tls_server_) keeper.keep(std::shared_ptr<TlsServer>(std::move(tls_server_)));
  }

  std::string endpoint() const {
    const bool v6 = config_.host.find(':') != std::string::npos;
    return (config_.tls ? "https://" : "http://") + (v6 ? "[" + config_.host + "]" : config_.host) + ":" + std::to_string(bound_port_.load());
  }

  std::atomic<bool> ready_{false};
  std::function<std::vector<std::string>()> not_ready_sources_;  // set before ready_
  ShadowRules* shadow_ = nullptr;  // set before start()
  StreamHub& stream() { return stream_; }
  void addAction(HttpApi::Method method, std::string path, api::Role role, HttpApi::Action action) {
    actions_.push_back({method, std::move(path), role, std::move(action)});
  }
  void setTokens(std::vector<api::ApiToken> tokens) { auth_.replace(std::move(tokens)); }
  void setMaintenance(maintenance::MaintenanceManager* m, verdicts::VerdictLog* v) {
    maintenance_ = m;
    verdicts_ = v;
  }

 private:
  // Answers 401/403 itself and returns nullopt when the request may not do this; otherwise the
  // actor to record ("anonymous" when authentication is off).
  std::optional<std::string> authorize(const Request& req, api::Role needed) {
    if (!auth_.enabled()) return std::string("anonymous");
    std::string_view header;
    if (req->header().has_field(restinio::http_field::authorization)) {
      header = req->header().get_field(restinio::http_field::authorization);
    }
    std::string query_token;
    if (auto params = restinio::try_parse_query<restinio::parse_query_traits::relaxed>(req->header().query())) {
      if (params->has("access_token")) query_token = std::string((*params)["access_token"]);
    }
    const auto token = auth_.find(header, query_token);
    if (token == nullptr) {
      api::countRejectedRequest(401);
      req->create_response(restinio::status_unauthorized())
          .append_header("WWW-Authenticate", "Bearer")
          .append_header(restinio::http_field::content_type, "application/json")
          .set_body(R"({"error":{"code":401,"message":"missing or unknown token"}})")
          .done();
      return std::nullopt;
    }
    if (token->role < needed) {
      sendError(req, restinio::status_forbidden(),
                "token '" + token->name + "' has role " + std::string(api::roleName(token->role)) + ", this needs " +
                    std::string(api::roleName(needed)));
      return std::nullopt;
    }
    return token->name;
  }

  // Wraps a handler with the role it needs.
  template <typename Handler>
  auto guarded(api::Role role, Handler handler) {
    return [this, role, handler](const Request& req, restinio::router::route_params_t params) {
      if (req->body().size() > config_.max_body_bytes) {
        return sendError(req, restinio::status_payload_too_large(),
                         "body: " + std::to_string(req->body().size()) + " bytes, over the limit of " +
                             std::to_string(config_.max_body_bytes));
      }
      if (auto retry_after = limiter_.acquire(req->remote_endpoint().address().to_string())) {
        api::countRejectedRequest(429);
        return req->create_response(restinio::status_too_many_requests())
            .append_header("Retry-After", std::to_string(*retry_after))
            .append_header(restinio::http_field::content_type, "application/json")
            .set_body(R"({"error":{"code":429,"message":"rate limit of this client exceeded, retry later"}})")
            .done();
      }
      auto actor = authorize(req, role);
      if (!actor) return restinio::request_accepted();
      return handler(req, std::move(params), *actor);
    };
  }

  std::unique_ptr<Router> makeRouter() {
    using api::Role;
    auto router = std::make_unique<Router>();
    router->http_get("/api/v1/incidents",
                     guarded(Role::kViewer, [this](auto req, auto, auto&) { return listIncidents(req); }));
    router->http_get(R"(/api/v1/incidents/:id(\d+))", guarded(Role::kViewer, [this](auto req, auto params, auto&) {
                       return getIncident(req, restinio::cast_to<std::string>(params["id"]));
                     }));
    router->http_post(R"(/api/v1/incidents/:id(\d+)/:verb(ack|resolve|close|reopen|assign|comment|severity|priority))",
                      guarded(Role::kOperator, [this](auto req, auto params, const std::string& actor) {
                        return postCommand(req, restinio::cast_to<std::string>(params["id"]),
                                           restinio::cast_to<std::string>(params["verb"]), actor);
                      }));
    router->http_get("/api/v1/stream", guarded(Role::kViewer, [this](auto req, auto, auto&) { return openStream(req); }));
    router->http_get("/api/v1/cis/:id", guarded(Role::kViewer, [this](auto req, auto params, auto&) {
                       return getCi(req, restinio::cast_to<std::string>(params["id"]));
                     }));
    router->http_get("/api/v1/services", guarded(Role::kViewer, [this](auto req, auto, auto&) { return getServices(req); }));
    router->http_get("/api/v1/unbound", guarded(Role::kViewer, [this](auto req, auto, auto&) {
                       json j;
                       pipeline_.unbound().toJson(j);
                       return sendJson(req, restinio::status_ok(), j);
                     }));
    router->http_post("/api/v1/events", guarded(Role::kIngest, [this](auto req, auto, auto&) { return postEvents(req); }));
    router->http_post("/api/v1/alertmanager",
                      guarded(Role::kIngest, [this](auto req, auto, auto&) { return postAlertmanager(req); }));
    router->http_post("/api/v1/pagerduty",
                      guarded(Role::kIngest, [this](auto req, auto, const std::string& actor) { return postPagerDuty(req, actor); }));
    addMaintenanceRoutes(*router);
    addShadowRoutes(*router);
    router->http_get("/metrics", [this](auto req, auto) {
      return req->create_response()
          .append_header(restinio::http_field::content_type, "text/plain; version=0.0.4; charset=utf-8")
          .set_body(metrics_.render())
          .done();
    });
    router->http_get("/healthz", [](auto req, auto) { return sendJson(req, restinio::status_ok(), {{"status", "ok"}}); });
    router->http_get("/readyz", [this](auto req, auto) {
      const bool started = ready_;
      const std::vector<std::string> waiting =
          started && not_ready_sources_ ? not_ready_sources_() : std::vector<std::string>{};
      const bool ready = started && pipeline_.ready() && waiting.empty();
      return sendJson(req, ready ? restinio::status_ok() : restinio::status_service_unavailable(),
                      {{"ready", ready}, {"store", pipeline_.ready() ? "ok" : "failing"}, {"sources_not_ready", waiting}});
    });
    router->http_get("/", [](auto req, auto) {
      return req->create_response()
          .append_header(restinio::http_field::content_type, "text/html; charset=utf-8")
          .set_body(std::string(web::kBoardHtml))
          .done();
    });
    for (const auto& a : actions_) {
      auto answer = [](const Request& req, const std::pair<int, json>& result) {
        api::countRejectedRequest(static_cast<unsigned>(result.first));
        return sendJson(
            req, restinio::http_status_line_t{restinio::http_status_code_t{static_cast<uint16_t>(result.first)}, ""},
            result.second);
      };
      if (a.method == HttpApi::Method::kGet) {
        router->http_get(a.path, guarded(a.role, [action = a.action, answer](auto req, auto, const std::string& actor) {
          auto params = restinio::try_parse_query<restinio::parse_query_traits::relaxed>(req->header().query());
          if (!params) return sendError(req, restinio::status_bad_request(), "malformed query string");
          json query = json::object();
          for (const auto& [name, value] : *params) {
            const std::string key(name);
            if (!query.contains(key)) query[key] = std::string(value);
            else if (query[key].is_array()) query[key].push_back(std::string(value));
            else query[key] = json::array({query[key], std::string(value)});
          }
          return answer(req, action(query, actor));
        }));
        continue;
      }
      router->http_post(a.path, guarded(a.role, [action = a.action, answer](auto req, auto, const std::string& actor) {
        const json body = req->body().empty() ? json() : json::parse(req->body(), nullptr, false);
        if (body.is_discarded()) return sendError(req, restinio::status_bad_request(), "body: expected JSON");
        return answer(req, action(body, actor));
      }));
    }
    router->non_matched_request_handler([](auto req) {
      return sendError(req, restinio::status_not_found(), "no such resource: " + std::string(req->header().path()));
    });
    return router;
  }

  // /api/v1/maintenance and the verdicts (docs/maintenance.md).
  void addMaintenanceRoutes(Router& router) {
    using api::Role;
    using Verb = maintenance::MaintenanceCommand::Verb;
    router.http_get(R"(/api/v1/events/:id/verdict)", guarded(Role::kViewer, [this](auto req, auto params, auto&) {
                      return sendAnswer(req, maintenance::getVerdict(store_, restinio::cast_to<std::string>(params["id"])));
                    }));
    router.http_get("/api/v1/verdicts", guarded(Role::kViewer, [this](auto req, auto, auto&) {
                      auto params = restinio::try_parse_query<restinio::parse_query_traits::relaxed>(req->header().query());
                      if (!params) return sendError(req, restinio::status_bad_request(), "malformed query string");
                      std::string ci, limit;
                      for (const auto& [name, value] : *params) {
                        if (name == "ci") ci = std::string(value);
                        else if (name == "limit") limit = std::string(value);
                        else return sendError(req, restinio::status_bad_request(), "unknown query parameter '" + std::string(name) + "'");
                      }
                      return sendAnswer(req, maintenance::listVerdicts(store_, ci, limit));
                    }));
    if (maintenance_ == nullptr) return;
    const std::string window = R"(/api/v1/maintenance/:id([A-Za-z0-9._-]+))";
    router.http_get("/api/v1/maintenance", guarded(Role::kViewer, [this](auto req, auto, auto&) {
                      return sendAnswer(req, maintenance::listWindows(*maintenance_));
                    }));
    router.http_get(window, guarded(Role::kViewer, [this](auto req, auto params, auto&) {
                      return sendAnswer(req, maintenance::getWindow(*maintenance_, store_, restinio::cast_to<std::string>(params["id"])));
                    }));
    router.http_get(window + "/preview", guarded(Role::kViewer, [this](auto req, auto params, auto&) {
                      return sendAnswer(req, maintenance::previewWindow(*maintenance_, *pipeline_.cmdb(),
                                                                        restinio::cast_to<std::string>(params["id"])));
                    }));
    router.http_post("/api/v1/maintenance", guarded(Role::kAdmin, [this](auto req, auto, const std::string& actor) {
                       return submitMaintenance(req, Verb::kCreate, "", actor);
                     }));
    router.http_put(window, guarded(Role::kAdmin, [this](auto req, auto params, const std::string& actor) {
                      return submitMaintenance(req, Verb::kReplace, restinio::cast_to<std::string>(params["id"]), actor);
                    }));
    router.http_delete(window, guarded(Role::kAdmin, [this](auto req, auto params, const std::string& actor) {
                         return submitMaintenance(req, Verb::kEnd, restinio::cast_to<std::string>(params["id"]), actor);
                       }));
  }

  // Hands the command to the correlator and wakes it with an empty batch, whose commit callback
  // answers: by then the command is applied and durable.
  restinio::request_handling_status_t submitMaintenance(const Request& req, maintenance::MaintenanceCommand::Verb verb,
                                                        const std::string& id, const std::string& actor) {
    auto parsed = maintenance::parseCommand(verb, id, req->body(), actor);
    if (auto* answer = std::get_if<maintenance::ApiAnswer>(&parsed)) return sendAnswer(req, *answer);
    auto command = std::get<std::shared_ptr<maintenance::MaintenanceCommand>>(std::move(parsed));
    maintenance_->submit(command);
    connectors::EventBatch wake;
    wake.on_commit = [this, req, command](const Status& committed) {
      if (!committed.isOk()) {
        sendError(req, restinio::status_service_unavailable(), committed.message());
        return;
      }
      sendAnswer(req, maintenance::commandAnswer(*command, *maintenance_));
    };
    if (!pipeline_.offer(wake)) {
      // Still applied at the correlator's next round; the caller cannot know, so say so.
      return sendError(req, restinio::status_service_unavailable(), "pipeline queue full; check the window list before retrying");
    }
    return restinio::request_accepted();
  }

  restinio::request_handling_status_t listIncidents(const Request& req) {
    IncidentQuery q;
    // Relaxed: keys such as "sw1/link/Gi0/1" arrive with their slashes unescaped.
    auto params = restinio::try_parse_query<restinio::parse_query_traits::relaxed>(req->header().query());
    if (!params) return sendError(req, restinio::status_bad_request(), "malformed query string");
    for (const auto& [name, value] : *params) {
      const std::string v(value);
      if (name == "state") {
        q.state = incidents::parseIncidentState(v);
        if (!q.state) return sendError(req, restinio::status_bad_request(), "state: expected open, acknowledged, resolved or closed");
      } else if (name == "severity") {
        q.severity = parseSeverity(v);
        if (!q.severity) return sendError(req, restinio::status_bad_request(), "severity: unknown value '" + v + "'");
      } else if (name == "priority") {
        if (v.size() != 2 || v[0] != 'P' || v[1] < '1' || v[1] > '5') {
          return sendError(req, restinio::status_bad_request(), "priority: expected P1..P5");
        }
        q.priority = static_cast<uint8_t>(v[1] - '0');
      } else if (name == "service") {
        q.service = v;
      } else if (name == "root") {
        if (v != "true" && v != "false") return sendError(req, restinio::status_bad_request(), "root: expected true or false");
        q.roots_only = v == "true";
      } else if (name == "limit") {
        auto n = api::parseNumber<size_t>(v);
        if (!n || *n == 0 || *n > 1000) return sendError(req, restinio::status_bad_request(), "limit: expected 1..1000");
        q.limit = *n;
      } else if (name == "cursor") {
        auto n = api::parseNumber<uint64_t>(v);
        if (!n) return sendError(req, restinio::status_bad_request(), "cursor: expected the next_cursor of a previous page");
        q.cursor = *n;
      } else if (name == "ci") {
        q.ci = v;
      } else if (name == "host") {
        q.host = v;
      } else if (name == "key") {
        q.key = v;
      } else if (name == "group") {
        q.group = v;
      } else if (name == "q") {
        q.text = v;
      } else {
        return sendError(req, restinio::status_bad_request(), "unknown query parameter '" + std::string(name) + "'");
      }
    }
    json items = json::array();
    std::optional<incidents::IncidentId> next;
    incidents::IncidentId last = 0;
    // A scale-out core: other cores' partitions come from the read model, merged in by id.
    std::vector<std::pair<incidents::Incident, std::string>> remote;
    if (read_side_ != nullptr) {
      read_side_->scanRemote(q.cursor, [&](incidents::Incident&& in, const std::string& owner) {
        if (q.matches(in)) remote.emplace_back(std::move(in), owner);
        return remote.size() <= q.limit;
      });
    }
    auto pending_remote = remote.begin();
    auto add = [&](const incidents::Incident& in, const std::string* owner) {
      if (items.size() == q.limit) {
        next = last;
        return false;
      }
      json j;
      incidents::toJson(in, j, false);
      if (owner != nullptr) j["owner"] = *owner;
      items.push_back(std::move(j));
      last = in.id;
      return true;
    };
    const std::string* self = read_side_ != nullptr ? &read_side_->selfUrl() : nullptr;
    Status s = store_.scanIncidents(q.cursor, [&](incidents::Incident&& in) {
      if (!q.matches(in) || (read_side_ != nullptr && read_side_->remoteOwner(in.partition()))) return true;
      for (; pending_remote != remote.end() && pending_remote->first.id > in.id; ++pending_remote) {
        if (!add(pending_remote->first, &pending_remote->second)) return false;
      }
      return add(in, self);
    });
    if (!s.isOk()) return sendError(req, restinio::status_internal_server_error(), s.toString());
    for (; !next && pending_remote != remote.end(); ++pending_remote) add(pending_remote->first, &pending_remote->second);
    return sendJson(req, restinio::status_ok(),
                    {{"incidents", std::move(items)}, {"next_cursor", next ? json(std::to_string(*next)) : json(nullptr)}});
  }

  restinio::request_handling_status_t getIncident(const Request& req, const std::string& id_text) {
    auto id = api::parseNumber<uint64_t>(id_text);
    if (!id) return sendError(req, restinio::status_bad_request(), "id: expected a number");
    if (auto owner = remoteOwnerFor(req, *id)) return forwardToOwner(req, *id, *owner);
    auto in = store_.getIncident(*id);
    if (!in) return sendError(req, restinio::status_internal_server_error(), in.error().toString());
    if (!*in) return sendError(req, restinio::status_not_found(), "no incident " + id_text);
    json j;
    incidents::toJson(**in, j, true);
    if (read_side_ != nullptr) j["owner"] = read_side_->selfUrl();
    return sendJson(req, restinio::status_ok(), j);
  }

  restinio::request_handling_status_t postCommand(const Request& req, const std::string& id_text,
                                                  const std::string& verb, const std::string& actor) {
    using Verb = incidents::IncidentCommand::Verb;
    incidents::IncidentCommand cmd;
    auto id = api::parseNumber<uint64_t>(id_text);
    if (!id) return sendError(req, restinio::status_bad_request(), "id: expected a number");
    cmd.id = *id;
    cmd.actor = actor;
    // Applied only by the owning core (its engine holds the incident); others pass it on.
    if (auto owner = remoteOwnerFor(req, *id)) return forwardToOwner(req, *id, *owner);
    json body = json::object();
    if (!req->body().empty()) {
      body = json::parse(req->body(), nullptr, false);
      if (!body.is_object()) return sendError(req, restinio::status_bad_request(), "body: expected a JSON object");
    }
    auto text = [&](const char* field) -> std::optional<std::string> {
      auto it = body.find(field);
      if (it == body.end() || it->is_null()) return std::nullopt;
      return it->is_string() ? std::optional<std::string>(it->get<std::string>()) : std::nullopt;
    };
    // Without authentication the caller may say who they are.
    if (cmd.actor == "anonymous" && text("actor")) cmd.actor = *text("actor");
    cmd.text = text("comment").value_or("");
    if (verb == "ack") {
      cmd.verb = Verb::kAcknowledge;
    } else if (verb == "resolve") {
      cmd.verb = Verb::kResolve;
    } else if (verb == "close") {
      cmd.verb = Verb::kClose;
    } else if (verb == "reopen") {
      cmd.verb = Verb::kReopen;
    } else if (verb == "assign") {
      cmd.verb = Verb::kAssign;
      cmd.group = text("group");
      cmd.assignee = text("assignee");
      if (!cmd.group && !cmd.assignee) {
        return sendError(req, restinio::status_bad_request(), "assign: give group and/or assignee");
      }
    } else if (verb == "comment") {
      cmd.verb = Verb::kComment;
      cmd.text = text("text").value_or(cmd.text);
      if (cmd.text.empty()) return sendError(req, restinio::status_bad_request(), "text: a comment needs text");
    } else if (verb == "severity") {
      cmd.verb = Verb::kSetSeverity;
      auto sev = parseSeverity(text("severity").value_or(""));
      if (!sev) return sendError(req, restinio::status_bad_request(), "severity: expected critical, major, minor, warning or info");
      cmd.severity = *sev;
    } else {
      cmd.verb = Verb::kSetPriority;
      const std::string p = text("priority").value_or("");
      if (p.size() != 2 || p[0] != 'P' || p[1] < '1' || p[1] > '5') {
        return sendError(req, restinio::status_bad_request(), "priority: expected P1..P5");
      }
      cmd.priority = static_cast<uint8_t>(p[1] - '0');
    }
    const incidents::IncidentId target = cmd.id;
    const bool queued = pipeline_.submit(std::move(cmd), [this, req, target](Result<incidents::Incident> result) {
      if (!result) {
        // A scale-out core that no longer owns the incident (a forwarded command that raced a
        // handover): the caller may retry, the new owner will apply it.
        if (result.error().code() == Status::Code::kNotFound && read_side_ != nullptr) {
          if (auto owner = read_side_->remoteOwner(incidents::partitionOf(target))) {
            sendError(req, restinio::status_service_unavailable(),
                      "incident " + std::to_string(target) + " moved to " + *owner + "; nothing was applied, retry");
            return;
          }
        }
        sendError(req, statusFor(result.error()), result.error().message());
        return;
      }
      json j;
      incidents::toJson(*result, j, true);
      if (read_side_ != nullptr) j["owner"] = read_side_->selfUrl();
      sendJson(req, restinio::status_ok(), j);
    });
    if (!queued) return sendError(req, restinio::status_service_unavailable(), "pipeline queue full, retry later");
    return restinio::request_accepted();
  }

  // The owner's URL when another core owns the incident's partition and this request was not
  // forwarded already (a forwarded request is answered where it lands: no forwarding loops).
  std::optional<std::string> remoteOwnerFor(const Request& req, incidents::IncidentId id) const {
    if (read_side_ == nullptr || forwarder_ == nullptr || req->header().has_field(std::string(kForwardedByHeader))) {
      return std::nullopt;
    }
    return read_side_->remoteOwner(incidents::partitionOf(id));
  }

  // Sends the request on to the owning core with the caller's credentials and relays its answer.
  // A GET whose owner does not answer gets the read model's copy (without timeline).
  restinio::request_handling_status_t forwardToOwner(const Request& req, incidents::IncidentId id,
                                                     const std::string& owner) {
    PeerForwarder::Request forward;
    forward.method = req->header().method() == restinio::http_method_post() ? "POST" : "GET";
    forward.url = owner + std::string(req->header().path());
    forward.body = std::string(req->body());
    forward.forwarded_by = read_side_->selfUrl();
    if (req->header().has_field(restinio::http_field::authorization)) {
      forward.authorization = std::string(req->header().get_field(restinio::http_field::authorization));
    } else if (auto params = restinio::try_parse_query<restinio::parse_query_traits::relaxed>(req->header().query());
               params && params->has("access_token")) {
      forward.authorization = "Bearer " + std::string((*params)["access_token"]);
    }
    const bool is_get = forward.method == "GET";
    // The answer may come after the API is gone (at shutdown): it needs only the read side.
    const bool queued = forwarder_->forward(std::move(forward), [read_side = read_side_, req, id, owner,
                                                                 is_get](PeerForwarder::Answer answer) {
      if (answer.status != 0) {
        api::countRejectedRequest(static_cast<unsigned>(answer.status));
        req->create_response(restinio::http_status_line_t{
               restinio::http_status_code_t{static_cast<uint16_t>(answer.status)}, ""})
            .append_header(restinio::http_field::content_type, "application/json")
            .append_header("Cache-Control", "no-store")
            .append_header("Vigil-Owner", owner)
            .set_body(std::move(answer.body))
            .done();
        return;
      }
      if (is_get) {
        if (auto copy = read_side->getRemote(id)) {
          json j;
          incidents::toJson(copy->first, j, false);
          j["owner"] = copy->second;
          sendJson(req, restinio::status_ok(), j);
          return;
        }
      }
      sendError(req, restinio::status_service_unavailable(),
                "incident " + std::to_string(id) + " is owned by " + owner + ", which did not answer (" + answer.error +
                    "); nothing was applied, retry later");
    });
    if (!queued) {
      return sendError(req, restinio::status_service_unavailable(),
                       "too many requests waiting for their owning core (" + owner + "), retry later");
    }
    return restinio::request_accepted();
  }

  restinio::request_handling_status_t getCi(const Request& req, const std::string& id) {
    const auto snapshot = pipeline_.cmdb();
    const cmdb::ConfigurationItem* ci = snapshot->find(id);
    if (ci == nullptr) return sendError(req, restinio::status_not_found(), "no configuration item '" + id + "'");
    json j;
    cmdb::toJson(*ci, j);
    json services = json::array();
    for (const auto* s : cmdb::impactedServices(*snapshot, id)) services.push_back(s->id);
    j["impacted_services"] = std::move(services);
    json dependents = json::array();
    for (const auto* d : cmdb::dependents(*snapshot, id)) dependents.push_back(d->id);
    j["dependents"] = std::move(dependents);
    return sendJson(req, restinio::status_ok(), j);
  }

  restinio::request_handling_status_t getServices(const Request& req) {
    json services = json::array();
    if (read_side_ != nullptr) {  // a scale-out core: the incidents of every partition count
      const auto cmdb = pipeline_.cmdb();
      for (const auto& s : cmdb::computeServiceHealth(*cmdb, read_side_->activeSeverityByCi())) {
        json j;
        cmdb::toJson(s, j);
        services.push_back(std::move(j));
      }
    } else if (const auto view = pipeline_.serviceHealth()) {
      for (const auto& s : view->services) {
        json j;
        cmdb::toJson(s, j);
        services.push_back(std::move(j));
      }
    }
    return sendJson(req, restinio::status_ok(), {{"services", std::move(services)}});
  }

  restinio::request_handling_status_t openStream(const Request& req) {
    uint64_t after = stream_.lastSeq();  // by default, only what happens from now on
    if (req->header().has_field("Last-Event-ID")) {
      auto seq = api::parseNumber<uint64_t>(req->header().get_field("Last-Event-ID"));
      if (!seq) return sendError(req, restinio::status_bad_request(), "Last-Event-ID: expected a number");
      after = *seq;
    }
    auto response = req->create_response<restinio::chunked_output_t>();
    response.append_header(restinio::http_field::content_type, "text/event-stream")
        .append_header("Cache-Control", "no-store")
        .append_header("X-Accel-Buffering", "no");
    stream_.subscribe(std::move(response), after);
    return restinio::request_accepted();
  }

  restinio::request_handling_status_t postEvents(const Request& req) {
    thread_local EventDecoder decoder(EventDecodeLimits{config_.max_labels, config_.max_field_bytes});
    connectors::EventBatch batch;
    Status s = decoder.decode(req->body(), "http", Clock::now(), batch.events);
    if (!s.isOk()) return sendError(req, restinio::status_bad_request(), s.message());
    const size_t count = batch.events.size();
    const uint64_t first_id = verdicts_ != nullptr && count > 0 ? verdicts_->reserve(count) : 0;
    return enqueueRendered(req, std::move(batch), api::intakeAnswerBody(count, first_id), first_id);
  }

  restinio::request_handling_status_t postAlertmanager(const Request& req) {
    connectors::EventBatch batch;
    Status s = connectors::http::decodeAlertmanager(req->body(), Clock::now(), batch.events);
    if (s.isOk()) s = checkEventLimits(batch.events, config_.max_labels, config_.max_field_bytes);
    if (!s.isOk()) return sendError(req, restinio::status_bad_request(), s.message());
    const size_t count = batch.events.size();
    return enqueue(req, std::move(batch), {{"accepted", count}});
  }

  // PagerDuty Events API v2: trigger and resolve are events; acknowledge acts on the incident
  // its dedup_key names, as a person would.
  restinio::request_handling_status_t postPagerDuty(const Request& req, const std::string& actor) {
    auto pd = connectors::http::decodePagerDuty(req->body(), Clock::now());
    if (!pd) return sendError(req, restinio::status_bad_request(), pd.error().message());
    if (Status s = checkEventLimits({&pd->event, 1}, config_.max_labels, config_.max_field_bytes); !s.isOk()) {
      return sendError(req, restinio::status_bad_request(), s.message());
    }
    const json answer = {{"status", "success"}, {"message", "Event processed"}, {"dedup_key", pd->dedup_key}};
    if (pd->action != connectors::http::PagerDutyRequest::Action::kAcknowledge) {
      connectors::EventBatch batch;
      batch.events.push_back(std::move(pd->event));
      return enqueue(req, std::move(batch), answer);
    }
    auto id = store_.findActiveByKey(0, "pagerduty/" + pd->dedup_key);
    if (!id) return sendError(req, restinio::status_internal_server_error(), id.error().toString());
    if (!*id) return sendJson(req, restinio::status_accepted(), answer);  // nothing open: nothing to do
    incidents::IncidentCommand cmd{.verb = incidents::IncidentCommand::Verb::kAcknowledge, .id = **id,
                                   .actor = actor == "anonymous" ? "pagerduty" : actor};
    const bool queued = pipeline_.submit(std::move(cmd), [req, answer](Result<incidents::Incident> result) {
      if (!result && result.error().code() != Status::Code::kFailedPrecondition) {
        sendError(req, statusFor(result.error()), result.error().message());
      } else {
        sendJson(req, restinio::status_accepted(), answer);  // already acknowledged is fine
      }
    });
    if (!queued) return sendError(req, restinio::status_service_unavailable(), "pipeline queue full, retry later");
    return restinio::request_accepted();
  }

  // Hands a batch to the pipeline and answers `answer` with 202 once it is committed.
  restinio::request_handling_status_t enqueue(const Request& req, connectors::EventBatch batch, const json& answer,
                                              uint64_t first_event_id = 0) {
    return enqueueRendered(req, std::move(batch), answer.dump(-1, ' ', false, json::error_handler_t::replace),
                           first_event_id);
  }
  // `answer_body` is rendered here, on the io thread: the commit thread only hands it over.
  restinio::request_handling_status_t enqueueRendered(const Request& req, connectors::EventBatch batch,
                                                      std::string answer_body, uint64_t first_event_id = 0) {
    if (batch.events.empty()) return sendJsonBody(req, restinio::status_accepted(), std::move(answer_body));
    // Answered from the correlator thread once the batch is durable; RESTinio hands the write to
    // the connection's own executor.
    batch.on_commit = [req, answer_body = std::move(answer_body)](const Status& committed) mutable {
      if (committed.isOk()) {
        sendJsonBody(req, restinio::status_accepted(), std::move(answer_body));
      } else {
        sendError(req, restinio::status_service_unavailable(), committed.message());
      }
    };
    if (!(first_event_id != 0 ? pipeline_.offer(batch, first_event_id) : pipeline_.offer(batch))) {
      api::countRejectedRequest(503);
      return req->create_response(restinio::status_service_unavailable())
          .append_header("Retry-After", "1")
          .append_header(restinio::http_field::content_type, "application/json")
          .set_body(R"({"error":{"code":503,"message":"pipeline queue full, retry later"}})")
          .done();
    }
    return restinio::request_accepted();
  }

  // GET (viewer) reports; POST (admin) takes a rule file's YAML as the body and starts comparing
  // it; DELETE (admin) stops. See daemon/rules_runtime/shadow_rules.h.
  void addShadowRoutes(Router& router) {
    using api::Role;
    router.http_get("/api/v1/rules/shadow", guarded(Role::kViewer, [this](auto req, auto, auto&) {
                      json report;
                      if (shadow_) shadow_->report(report);
                      return sendJson(req, restinio::status_ok(), report);
                    }));
    router.http_post("/api/v1/rules/shadow", guarded(Role::kAdmin, [this](auto req, auto, const std::string& actor) {
                       if (!shadow_) return sendError(req, restinio::status_not_found(), "shadow rules are not available");
                       auto set = rules::RuleSet::loadString(req->body(), "shadow");
                       if (!set) return sendError(req, restinio::status_bad_request(), set.error().message());
                       shadow_->setCandidate(*set, "api:" + actor);
                       spdlog::info("rules: shadow set of {} rules (version {}) from {}", (*set)->size(),
                                    (*set)->version(), actor);
                       json report;
                       shadow_->report(report);
                       return sendJson(req, restinio::status_ok(), report);
                     }));
    router.http_delete("/api/v1/rules/shadow", guarded(Role::kAdmin, [this](auto req, auto, auto&) {
                         if (shadow_) shadow_->clear();
                         return sendJson(req, restinio::status_ok(), {{"active", false}});
                       }));
  }

  const config::HttpConfig config_;
  asio::io_context& io_;
  Pipeline& pipeline_;
  const store::Store& store_;
  metrics::MetricsRegistry& metrics_;
  api::Authenticator auth_;
  struct Action {
    HttpApi::Method method;
    std::string path;
    api::Role role;
    HttpApi::Action action;
  };
  std::vector<Action> actions_;  // set before start()
  api::RateLimiter limiter_;
  StreamHub stream_;
  maintenance::MaintenanceManager* maintenance_ = nullptr;
  verdicts::VerdictLog* verdicts_ = nullptr;

 public:
  ReadSide* read_side_ = nullptr;  // scale-out core; set before start()
  PeerForwarder* forwarder_ = nullptr;

 private:
  std::unique_ptr<Server> server_;          // plain HTTP, or
  std::unique_ptr<TlsServer> tls_server_;   // HTTPS (http.tls)
  std::atomic<uint16_t> bound_port_{0};
};

HttpApi::HttpApi(const config::HttpConfig& config, asio::io_context& io, Pipeline& pipeline,
                 const store::Store& store, metrics::MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(config, io, pipeline, store, metrics)) {}

HttpApi::~HttpApi() { stop(); }

Status HttpApi::start() { return impl_->start(); }
void HttpApi::stop() { impl_->stop(); }
std::string HttpApi::endpoint() const { return impl_->endpoint(); }
void HttpApi::setReady(bool ready, std::function<std::vector<std::string>()> not_ready_sources) {
  impl_->not_ready_sources_ = std::move(not_ready_sources);
  impl_->ready_ = ready;
}
void HttpApi::setMaintenance(maintenance::MaintenanceManager* maintenance, verdicts::VerdictLog* verdicts) {
  impl_->setMaintenance(maintenance, verdicts);
}
ChangeListener& HttpApi::streamListener() { return impl_->stream(); }
void HttpApi::addAdminAction(std::string path, AdminAction action) {
  impl_->addAction(Method::kPost, std::move(path), Role::kAdmin,
                   [action = std::move(action)](const nlohmann::json& body, const std::string&) { return action(body); });
}
void HttpApi::addAction(Method method, std::string path, Role role, Action action) {
  impl_->addAction(method, std::move(path), role, std::move(action));
}
void HttpApi::setTokens(std::vector<ApiToken> tokens) { impl_->setTokens(std::move(tokens)); }
void HttpApi::setShadowRules(ShadowRules* shadow) { impl_->shadow_ = shadow; }
void HttpApi::setReadSide(ReadSide* read_side, PeerForwarder* forwarder) {
  impl_->read_side_ = read_side;
  impl_->stream().setFeed(read_side);
  impl_->forwarder_ = forwarder;
}

}  // namespace vigil::api
