#include "connectors/syslog/syslog_tcp.h"

#include <asio/post.hpp>
#include <spdlog/spdlog.h>

namespace vigil::connectors::syslog {

std::string peerAddress(const asio::ip::tcp::socket& socket) {
  asio::error_code error;
  const auto endpoint = socket.remote_endpoint(error);
  if (error) {
    return "unknown";
  }
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address.to_string();
}

TcpListener::TcpListener(asio::io_context& io, std::shared_ptr<SourceCore> core, TlsContextPtr tls)
    : io_(io), core_(std::move(core)), tls_(std::move(tls)),
      transport_(tls_ ? Transport::kTls : Transport::kTcp), strand_(asio::make_strand(io)),
      acceptor_(strand_), retry_timer_(strand_) {}

Status TcpListener::bind(const ListenAddress& address) {
  asio::error_code error;
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(address.host, error), address.port);
  if (!error) acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
  asio::ip::tcp::endpoint local;
  if (!error) local = acceptor_.local_endpoint(error);
  if (error) {
    asio::error_code ignored;
    acceptor_.close(ignored);
    return Status::ioError("syslog: cannot listen on " + address.toString() + ": " + error.message());
  }
  endpoint_ = ListenAddress{transport_, local.address().to_string(), local.port()}.toString();
  return Status::ok();
}

void TcpListener::start() {
  asio::post(strand_, [self = shared_from_this()] { self->doAccept(); });
}

void TcpListener::doAccept() {
  acceptor_.async_accept(asio::make_strand(io_),
                         [self = shared_from_this()](const asio::error_code& error,
                                                     asio::ip::tcp::socket socket) {
                           self->onAccept(error, std::move(socket));
                         });
}

void TcpListener::onAccept(const asio::error_code& error, asio::ip::tcp::socket socket) {
  if (error == asio::error::operation_aborted || !acceptor_.is_open()) {
    return;
  }
  if (error) {
    // EMFILE and friends: back off instead of spinning on a failing accept.
    core_->warnInput("accept failed: " + error.message(), endpoint_, "");
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](const asio::error_code& e) {
      if (!e) self->doAccept();
    });
    return;
  }
  if (core_->tcp_connections.load() >= core_->config.max_connections) {
    core_->metrics.of(transport_).dropped_too_many_connections->Increment();
    core_->warnInput("too many connections, closing new one", peerAddress(socket), "");
    asio::error_code ignored;
    socket.close(ignored);
  } else {
    auto connection = std::make_shared<TcpConnection>(core_, weak_from_this(), std::move(socket), tls_);
    bool started = false;
    {
      std::lock_guard lock(mu_);
      if (!closing_) {
        connections_.emplace(connection.get(), connection);
        started = true;
      }
    }
    if (started) {
      core_->tcp_connections.fetch_add(1);
      core_->metrics.connections->Increment();
      connection->start();
    }
  }
  doAccept();
}

void TcpListener::forget(TcpConnection* connection) {
  std::lock_guard lock(mu_);
  connections_.erase(connection);
}

void TcpListener::close(std::shared_ptr<void> guard) {
  asio::post(strand_, [self = shared_from_this(), guard] {
    std::vector<std::shared_ptr<TcpConnection>> open;
    {
      std::lock_guard lock(self->mu_);
      self->closing_ = true;
      for (auto& [ptr, weak] : self->connections_) {
        if (auto c = weak.lock()) open.push_back(std::move(c));
      }
    }
    asio::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
    for (auto& c : open) {
      c->close(guard);
    }
  });
}

}  // namespace vigil::connectors::syslog
