// The only translation unit that includes RESTinio: it costs ~40 s and ~1 GB to compile.
#include "daemon/api/http_api.h"

#include <atomic>
#include <charconv>
#include <future>
#include <optional>

#include <nlohmann/json.hpp>
#include <restinio/all.hpp>
#include <spdlog/spdlog.h>

#include "daemon/event_json.h"
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
using Request = restinio::request_handle_t;

restinio::request_handling_status_t sendJson(const Request& req, restinio::http_status_line_t status,
                                             const json& body) {
  return req->create_response(std::move(status))
      .append_header(restinio::http_field::content_type, "application/json")
      .append_header("Cache-Control", "no-store")
      .set_body(body.dump(-1, ' ', false, json::error_handler_t::replace))
      .done();
}

restinio::request_handling_status_t sendError(const Request& req, restinio::http_status_line_t status,
                                              std::string_view message) {
  const auto code = status.status_code().raw_code();
  return sendJson(req, std::move(status), {{"error", {{"code", code}, {"message", message}}}});
}

template <typename T>
std::optional<T> parseNumber(std::string_view s) {
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

// Filters of GET /api/v1/incidents.
struct IncidentQuery {
  std::optional<incidents::IncidentState> state;
  std::optional<Severity> severity;
  std::string ci, host, key, group, text;
  size_t limit = 100;
  incidents::IncidentId cursor = 0;

  bool matches(const incidents::Incident& in) const {
    if (state && in.state != *state) return false;
    if (severity && in.severity != *severity) return false;
    if (!ci.empty() && in.ci != ci) return false;
    if (!host.empty() && in.host != host) return false;
    if (!key.empty() && in.key != key) return false;
    if (!group.empty() && in.assignment_group != group) return false;
    if (!text.empty() && in.title.find(text) == std::string::npos) return false;
    return true;
  }
};

}  // namespace

class HttpApi::Impl {
 public:
  Impl(const config::HttpConfig& config, asio::io_context& io, Pipeline& pipeline,
       const store::Store& store, metrics::MetricsRegistry& metrics)
      : config_(config), io_(io), pipeline_(pipeline), store_(store), metrics_(metrics) {}

  Status start() {
    auto settings = restinio::server_settings_t<Traits>{}
                        .address(config_.host)
                        .port(config_.port)
                        .max_parallel_connections(config_.max_connections)
                        .read_next_http_message_timelimit(config_.read_timeout)
                        .incoming_http_msg_limits(
                            restinio::incoming_http_msg_limits_t{}.max_body_size(config_.max_body_bytes))
                        .acceptor_post_bind_hook([this](asio::ip::tcp::acceptor& acceptor) {
                          bound_port_ = acceptor.local_endpoint().port();
                        })
                        .request_handler(makeRouter());
    server_ = std::make_unique<Server>(restinio::external_io_context(io_), std::move(settings));
    std::promise<Status> opened;
    server_->open_async([&] { opened.set_value(Status::ok()); },
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
    if (!server_) return;
    std::promise<void> closed;
    server_->close_async([&] { closed.set_value(); }, [&](std::exception_ptr) { closed.set_value(); });
    closed.get_future().wait();
    server_.reset();
  }

  std::string endpoint() const {
    const bool v6 = config_.host.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + config_.host + "]" : config_.host) + ":" + std::to_string(bound_port_.load());
  }

  std::atomic<bool> ready_{false};

 private:
  std::unique_ptr<Router> makeRouter() {
    auto router = std::make_unique<Router>();
    router->http_get("/api/v1/incidents", [this](auto req, auto) { return listIncidents(req); });
    router->http_get(R"(/api/v1/incidents/:id(\d+))", [this](auto req, auto params) {
      return getIncident(req, restinio::cast_to<std::string>(params["id"]));
    });
    router->http_post("/api/v1/events", [this](auto req, auto) { return postEvents(req); });
    router->http_get("/metrics", [this](auto req, auto) {
      return req->create_response()
          .append_header(restinio::http_field::content_type, "text/plain; version=0.0.4; charset=utf-8")
          .set_body(metrics_.render())
          .done();
    });
    router->http_get("/healthz", [](auto req, auto) { return sendJson(req, restinio::status_ok(), {{"status", "ok"}}); });
    router->http_get("/readyz", [this](auto req, auto) {
      const bool ready = ready_ && pipeline_.ready();
      return sendJson(req, ready ? restinio::status_ok() : restinio::status_service_unavailable(),
                      {{"ready", ready}, {"store", pipeline_.ready() ? "ok" : "failing"}});
    });
    router->http_get("/", [](auto req, auto) {
      return req->create_response()
          .append_header(restinio::http_field::content_type, "text/html; charset=utf-8")
          .set_body(std::string(web::kBoardHtml))
          .done();
    });
    router->non_matched_request_handler([](auto req) {
      return sendError(req, restinio::status_not_found(), "no such resource: " + std::string(req->header().path()));
    });
    return router;
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
      } else if (name == "limit") {
        auto n = parseNumber<size_t>(v);
        if (!n || *n == 0 || *n > 1000) return sendError(req, restinio::status_bad_request(), "limit: expected 1..1000");
        q.limit = *n;
      } else if (name == "cursor") {
        auto n = parseNumber<uint64_t>(v);
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
    Status s = store_.scanIncidents(q.cursor, [&](incidents::Incident&& in) {
      if (!q.matches(in)) return true;
      if (items.size() == q.limit) {
        next = last;
        return false;
      }
      json j;
      incidents::toJson(in, j, false);
      items.push_back(std::move(j));
      last = in.id;
      return true;
    });
    if (!s.isOk()) return sendError(req, restinio::status_internal_server_error(), s.toString());
    return sendJson(req, restinio::status_ok(),
                    {{"incidents", std::move(items)}, {"next_cursor", next ? json(std::to_string(*next)) : json(nullptr)}});
  }

  restinio::request_handling_status_t getIncident(const Request& req, const std::string& id_text) {
    auto id = parseNumber<uint64_t>(id_text);
    if (!id) return sendError(req, restinio::status_bad_request(), "id: expected a number");
    auto in = store_.getIncident(*id);
    if (!in) return sendError(req, restinio::status_internal_server_error(), in.error().toString());
    if (!*in) return sendError(req, restinio::status_not_found(), "no incident " + id_text);
    json j;
    incidents::toJson(**in, j, true);
    return sendJson(req, restinio::status_ok(), j);
  }

  restinio::request_handling_status_t postEvents(const Request& req) {
    thread_local EventDecoder decoder;
    connectors::EventBatch batch;
    Status s = decoder.decode(req->body(), "http", Clock::now(), batch.events);
    if (!s.isOk()) return sendError(req, restinio::status_bad_request(), s.message());
    const size_t count = batch.events.size();
    if (count == 0) return sendJson(req, restinio::status_accepted(), {{"accepted", 0}});
    // Answered from the correlator thread once the batch is durable; RESTinio hands the write to
    // the connection's own executor.
    batch.on_commit = [req, count](const Status& committed) {
      if (committed.isOk()) {
        sendJson(req, restinio::status_accepted(), {{"accepted", count}});
      } else {
        sendError(req, restinio::status_service_unavailable(), committed.message());
      }
    };
    if (!pipeline_.offer(batch)) {
      return req->create_response(restinio::status_service_unavailable())
          .append_header("Retry-After", "1")
          .append_header(restinio::http_field::content_type, "application/json")
          .set_body(R"({"error":{"code":503,"message":"pipeline queue full, retry later"}})")
          .done();
    }
    return restinio::request_accepted();
  }

  const config::HttpConfig config_;
  asio::io_context& io_;
  Pipeline& pipeline_;
  const store::Store& store_;
  metrics::MetricsRegistry& metrics_;
  std::unique_ptr<Server> server_;
  std::atomic<uint16_t> bound_port_{0};
};

HttpApi::HttpApi(const config::HttpConfig& config, asio::io_context& io, Pipeline& pipeline,
                 const store::Store& store, metrics::MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(config, io, pipeline, store, metrics)) {}

HttpApi::~HttpApi() { stop(); }

Status HttpApi::start() { return impl_->start(); }
void HttpApi::stop() { impl_->stop(); }
std::string HttpApi::endpoint() const { return impl_->endpoint(); }
void HttpApi::setReady(bool ready) { impl_->ready_ = ready; }

}  // namespace vigil::api
