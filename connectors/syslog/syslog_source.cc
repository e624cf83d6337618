#include "connectors/syslog/syslog_source.h"

#include <chrono>
#include <future>

#include <asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include "connectors/syslog/syslog_core.h"
#include "connectors/syslog/syslog_tcp.h"
#include "connectors/syslog/syslog_tls.h"
#include "connectors/syslog/syslog_udp.h"

namespace vigil::connectors::syslog {

SyslogSource::SyslogSource(SyslogConfig config, SourceContext& context)
    : context_(context), core_(std::make_shared<SourceCore>(std::move(config), context.registry)) {}

SyslogSource::~SyslogSource() { stop(); }

Status SyslogSource::start(EventSink& sink) {
  if (started_) {
    return Status::failedPrecondition("syslog: source already started");
  }
  TlsContextPtr tls;  // one context for every tls:// listener, loaded with the first
  for (const ListenAddress& address : core_->config.listen) {
    Status status;
    if (address.transport == Transport::kUdp) {
      auto listener = std::make_shared<UdpListener>(context_.io, core_);
      status = listener->bind(address);
      if (status) {
        endpoints_.push_back(listener->endpoint());
        udp_.push_back(std::move(listener));
      }
    } else {
      if (address.transport == Transport::kTls && !tls) {
        auto context = makeTlsServerContext(core_->config.tls);
        if (context) {
          tls = std::move(*context);
        } else {
          status = context.error();
        }
      }
      if (status) {
        auto listener = std::make_shared<TcpListener>(
            context_.io, core_, address.transport == Transport::kTls ? tls : nullptr);
        status = listener->bind(address);
        if (status) {
          endpoints_.push_back(listener->endpoint());
          tcp_.push_back(std::move(listener));
        }
      }
    }
    if (!status) {
      // Nothing was started, so dropping our references closes what was bound.
      udp_.clear();
      tcp_.clear();
      endpoints_.clear();
      return status;
    }
  }
  core_->attachSink(sink);
  for (auto& l : udp_) l->start();
  for (auto& l : tcp_) l->start();
  started_ = true;
  for (const std::string& endpoint : endpoints_) {
    spdlog::info("syslog: listening on {}", endpoint);
  }
  return Status::ok();
}

void SyslogSource::stop() {
  if (!started_) {
    return;
  }
  started_ = false;
  core_->detachSink();  // from here on no handler calls the sink
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> closed = done->get_future();
  {
    // Released once every listener and connection has closed on its strand.
    std::shared_ptr<void> guard(nullptr, [done](void*) { done->set_value(); });
    for (auto& l : udp_) l->close(guard);
    for (auto& l : tcp_) l->close(guard);
  }
  // If nobody runs the io_context the closes wait in its queue and run (or are destroyed) with it.
  if (!context_.io.stopped() &&
      closed.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    spdlog::warn("syslog: sockets not closed within 5s (is the io_context running?)");
  }
  udp_.clear();
  tcp_.clear();
}

Result<SourcePtr> makeSyslogSource(const YAML::Node& section, std::string_view file,
                                   SourceContext& context) {
  auto config = parseSyslogConfig(section, file);
  if (!config) {
    return fail(config.error());
  }
  return SourcePtr(std::make_unique<SyslogSource>(std::move(*config), context));
}

}  // namespace vigil::connectors::syslog
