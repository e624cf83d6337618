// Its own header first: it includes the standard library before Asio, so Asio's config sees
// _GLIBCXX_HAVE_ALIGNED_ALLOC as in every other file. With Asio first, this file's inline
// asio::aligned_new/aligned_delete used operator new/delete and the others' aligned_alloc/free:
// an ODR violation that ASan reported as alloc-dealloc-mismatch (scripts/sanitize-tests).
#include "connectors/syslog/syslog_tcp.h"

#include <asio/post.hpp>
#include <asio/ssl/error.hpp>
#include <spdlog/spdlog.h>

namespace vigil::connectors::syslog {
namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
constexpr auto kMaxBackoff = std::chrono::milliseconds(50);

}  // namespace

TcpConnection::TcpConnection(std::shared_ptr<SourceCore> core, std::weak_ptr<TcpListener> listener,
                             asio::ip::tcp::socket socket, TlsContextPtr tls)
    : core_(std::move(core)), listener_(std::move(listener)),
      transport_(tls ? Transport::kTls : Transport::kTcp), metrics_(core_->metrics.of(transport_)),
      socket_(std::move(socket)), tls_context_(std::move(tls)),
      tls_(tls_context_ ? std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *tls_context_)
                        : nullptr),
      retry_timer_(socket_.get_executor()), idle_timer_(socket_.get_executor()),
      peer_(peerAddress(socket_)), framer_(core_->config.max_message_size),
      buffer_(kReadBufferSize) {}

void TcpConnection::start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    const auto now = std::chrono::steady_clock::now();
    if (self->tls_) {
      // The idle timer doubles as the handshake timeout: the deadline moves on once it is done.
      self->handshaking_ = true;
      self->reading_ = true;
      self->idle_deadline_ = now + self->core_->config.tls.handshake_timeout;
      self->armIdleTimer(self->idle_deadline_);
      self->tls_->async_handshake(asio::ssl::stream_base::server,
                                  [self](const asio::error_code& error) { self->onHandshake(error); });
      return;
    }
    self->idle_deadline_ = now + self->core_->config.idle_timeout;
    self->armIdleTimer(self->idle_deadline_);
    self->doRead();
  });
}

void TcpConnection::onHandshake(const asio::error_code& error) {
  reading_ = false;
  if (closed_) {
    return;  // timed out or the source stopped; counted there
  }
  handshaking_ = false;
  if (error) {
    metrics_.dropped_tls_handshake->Increment();
    core_->warnInput("TLS handshake failed (" + error.message() + "), closing connection", peer_, "");
    shutdown();
    return;
  }
  idle_deadline_ = std::chrono::steady_clock::now() + core_->config.idle_timeout;
  doRead();
}

void TcpConnection::close(std::shared_ptr<void> guard) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), guard] { self->shutdown(); });
}

void TcpConnection::doRead() {
  reading_ = true;
  auto on_read = [self = shared_from_this()](const asio::error_code& error, size_t n) {
    self->onRead(error, n);
  };
  if (tls_) {
    tls_->async_read_some(asio::buffer(buffer_), std::move(on_read));
  } else {
    socket_.async_read_some(asio::buffer(buffer_), std::move(on_read));
  }
}

void TcpConnection::onRead(const asio::error_code& error, size_t bytes) {
  reading_ = false;
  if (closed_) {
    return;
  }
  if (error) {
    // stream_truncated: the TLS peer closed without close_notify, as most syslog senders do.
    if (error != asio::error::eof && error != asio::error::operation_aborted &&
        error != asio::ssl::error::stream_truncated) {
      spdlog::debug("syslog: connection from {} failed: {}", peer_, error.message());
    }
    decodeChunk({}, /*eof=*/true);
  } else {
    metrics_.bytes->Increment(static_cast<double>(bytes));
    idle_deadline_ = std::chrono::steady_clock::now() + core_->config.idle_timeout;
    decodeChunk(std::string_view(buffer_.data(), bytes), /*eof=*/false);
  }
  deliver();
}

void TcpConnection::decodeChunk(std::string_view data, bool eof) {
  const TimePoint now = Clock::now();
  const size_t batch_max = core_->config.batch_max_events;
  size_t frames = 0;  // counted once per read: a shared counter per message costs throughput
  auto on_frame = [&](std::string_view frame) {
    ++frames;
    if (pending_.empty() || pending_.back().events.size() >= batch_max) {
      pending_.emplace_back().events.reserve(std::min<size_t>(batch_max, 64));
    }
    core_->decode(frame, transport_, peer_, now, pending_.back().events);
  };
  const uint64_t oversize_before = framer_.oversizeFrames();
  const uint64_t truncated_before = framer_.truncatedFrames();
  if (!framer_.feed(data, on_frame)) {
    metrics_.dropped_oversize.Increment();
    core_->warnInput("absurd octet count, closing connection", peer_, data.substr(0, 32));
    eof_ = true;
  }
  if (eof) {
    framer_.finish(on_frame);
    eof_ = true;
  }
  if (frames > 0) {
    metrics_.messages->Increment(static_cast<double>(frames));
  }
  if (const uint64_t n = framer_.oversizeFrames() - oversize_before; n > 0) {
    metrics_.dropped_oversize.Increment(static_cast<double>(n));
    core_->warnInput("oversize frame dropped", peer_, data.substr(0, 64));
  }
  if (const uint64_t n = framer_.truncatedFrames() - truncated_before; n > 0) {
    metrics_.dropped_parse_error.Increment(static_cast<double>(n));
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
        if (backoff_.count() == 0) {
          metrics_.paused->Increment();
        }
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
      if (self->handshaking_) {
        self->metrics_.dropped_tls_handshake->Increment();
        self->core_->warnInput("TLS handshake timed out, closing connection", self->peer_, "");
      } else {
        spdlog::debug("syslog: closing idle connection from {}", self->peer_);
      }
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
