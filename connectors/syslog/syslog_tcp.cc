#include "connectors/syslog/syslog_tcp.h"

#include <asio/post.hpp>
#include <spdlog/spdlog.h>

namespace vigil::connectors::syslog {
namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
constexpr auto kMaxBackoff = std::chrono::milliseconds(50);

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

}  // namespace

TcpListener::TcpListener(asio::io_context& io, std::shared_ptr<SourceCore> core)
    : io_(io), core_(std::move(core)), strand_(asio::make_strand(io)), acceptor_(strand_),
      retry_timer_(strand_) {}

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
  endpoint_ = ListenAddress{Transport::kTcp, local.address().to_string(), local.port()}.toString();
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
    core_->metrics.tcp.dropped_too_many_connections->Increment();
    core_->warnInput("too many connections, closing new one", peerAddress(socket), "");
    asio::error_code ignored;
    socket.close(ignored);
  } else {
    auto connection = std::make_shared<TcpConnection>(core_, weak_from_this(), std::move(socket));
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

TcpConnection::TcpConnection(std::shared_ptr<SourceCore> core, std::weak_ptr<TcpListener> listener,
                             asio::ip::tcp::socket socket)
    : core_(std::move(core)), listener_(std::move(listener)), socket_(std::move(socket)),
      retry_timer_(socket_.get_executor()), idle_timer_(socket_.get_executor()),
      peer_(peerAddress(socket_)), framer_(core_->config.max_message_size),
      buffer_(kReadBufferSize) {}

void TcpConnection::start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->idle_deadline_ = std::chrono::steady_clock::now() + self->core_->config.idle_timeout;
    self->armIdleTimer(self->idle_deadline_);
    self->doRead();
  });
}

void TcpConnection::close(std::shared_ptr<void> guard) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), guard] { self->shutdown(); });
}

void TcpConnection::doRead() {
  reading_ = true;
  socket_.async_read_some(asio::buffer(buffer_),
                          [self = shared_from_this()](const asio::error_code& error, size_t n) {
                            self->onRead(error, n);
                          });
}

void TcpConnection::onRead(const asio::error_code& error, size_t bytes) {
  reading_ = false;
  if (closed_) {
    return;
  }
  if (error) {
    if (error != asio::error::eof && error != asio::error::operation_aborted) {
      spdlog::debug("syslog: connection from {} failed: {}", peer_, error.message());
    }
    decodeChunk({}, /*eof=*/true);
  } else {
    core_->metrics.tcp.bytes->Increment(static_cast<double>(bytes));
    idle_deadline_ = std::chrono::steady_clock::now() + core_->config.idle_timeout;
    decodeChunk(std::string_view(buffer_.data(), bytes), /*eof=*/false);
  }
  deliver();
}

void TcpConnection::decodeChunk(std::string_view data, bool eof) {
  const TimePoint now = Clock::now();
  const size_t batch_max = core_->config.batch_max_events;
  auto on_frame = [&](std::string_view frame) {
    core_->metrics.tcp.messages->Increment();
    if (pending_.empty() || pending_.back().events.size() >= batch_max) {
      pending_.emplace_back().events.reserve(std::min<size_t>(batch_max, 64));
    }
    core_->decode(frame, Transport::kTcp, peer_, now, pending_.back().events);
  };
  const uint64_t oversize_before = framer_.oversizeFrames();
  const uint64_t truncated_before = framer_.truncatedFrames();
  if (!framer_.feed(data, on_frame)) {
    core_->metrics.tcp.dropped_oversize->Increment();
    core_->warnInput("absurd octet count, closing connection", peer_, data.substr(0, 32));
    eof_ = true;
  }
  if (eof) {
    framer_.finish(on_frame);
    eof_ = true;
  }
  if (const uint64_t n = framer_.oversizeFrames() - oversize_before; n > 0) {
    core_->metrics.tcp.dropped_oversize->Increment(static_cast<double>(n));
    core_->warnInput("oversize frame dropped", peer_, data.substr(0, 64));
  }
  if (const uint64_t n = framer_.truncatedFrames() - truncated_before; n > 0) {
    core_->metrics.tcp.dropped_parse_error->Increment(static_cast<double>(n));
    core_->warnInput("connection closed inside an octet-counted frame", peer_, "");
  }
  if (!pending_.empty() && pending_.back().events.empty()) {
    pending_.pop_back();
  }
}

void TcpConnection::deliver() {
  while (!pending_.empty()) {
    switch (core_->offer(pending_.front())) {
      case SourceCore::Offer::kAccepted:
        pending_.pop_front();
        break;
      case SourceCore::Offer::kStopped:
        shutdown();
        return;
      case SourceCore::Offer::kFull:
        // Keep the batch and stop reading: TCP flow control slows the sender down.
        backoff_ = backoff_.count() == 0 ? std::chrono::milliseconds(2)
                                         : std::min(backoff_ * 2, kMaxBackoff);
        retry_timer_.expires_after(backoff_);
        retry_timer_.async_wait([self = shared_from_this()](const asio::error_code& error) {
          if (!error && !self->closed_) self->deliver();
        });
        return;
    }
  }
  backoff_ = std::chrono::milliseconds(0);
  if (eof_) {
    shutdown();
  } else {
    doRead();
  }
}

void TcpConnection::armIdleTimer(std::chrono::steady_clock::time_point at) {
  idle_timer_.expires_at(at);
  idle_timer_.async_wait([self = shared_from_this()](const asio::error_code& error) {
    if (error || self->closed_) {
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!self->reading_) {
      // Waiting on the sink is our doing, not the peer's: don't count it as idle.
      self->idle_deadline_ = now + self->core_->config.idle_timeout;
    }
    if (now >= self->idle_deadline_) {
      spdlog::debug("syslog: closing idle connection from {}", self->peer_);
      self->shutdown();
    } else {
      self->armIdleTimer(self->idle_deadline_);
    }
  });
}

void TcpConnection::shutdown() {
  if (closed_) {
    return;
  }
  closed_ = true;
  asio::error_code ignored;
  socket_.close(ignored);
  retry_timer_.cancel();
  idle_timer_.cancel();
  pending_.clear();
  core_->tcp_connections.fetch_sub(1);
  core_->metrics.connections->Decrement();
  if (auto listener = listener_.lock()) {
    listener->forget(this);
  }
}

}  // namespace vigil::connectors::syslog
