// TCP and TLS side of the syslog source: a listener per tcp:// or tls:// endpoint and a
// connection per peer. A TLS connection is a TCP one with a handshake first (bounded by
// tls.handshake_timeout, failures counted as reason="tls_handshake") and reads through the TLS
// stream; framing, limits and backpressure are the same. Internal to connectors/syslog.
// Thread-safety: each listener and each connection runs all its handlers on its own strand, so
// the io_context may be run by several threads. close() may be called from any thread.
// Backpressure: when the sink refuses a batch the connection stops reading and retries the same
// batch on a timer (2 ms doubling to 50 ms); TCP flow control then slows the sender. Nothing
// that was read is dropped, except frames over max_message_size.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include "connectors/syslog/framer.h"
#include "connectors/syslog/syslog_core.h"
#include "connectors/syslog/syslog_tls.h"

namespace vigil::connectors::syslog {

class TcpConnection;

// The peer's IP address as text ("192.0.2.1", IPv4-mapped IPv6 unmapped), or "unknown".
std::string peerAddress(const asio::ip::tcp::socket& socket);

class TcpListener : public std::enable_shared_from_this<TcpListener> {
 public:
  // `tls` null: plain TCP; otherwise every accepted connection speaks TLS with that context.
  TcpListener(asio::io_context& io, std::shared_ptr<SourceCore> core, TlsContextPtr tls = nullptr);
  // Opens, binds and listens (synchronously, on the calling thread, before any handler runs).
  Status bind(const ListenAddress& address);
  // The bound endpoint as "tcp://127.0.0.1:40123" (or "tls://...").
  std::string endpoint() const { return endpoint_; }
  void start();
  // Closes the acceptor and every connection on their strands; `guard` is released (its
  // deleter runs) once all of them are closed, or when the io_context drops the handlers.
  void close(std::shared_ptr<void> guard);
  // Called by a connection, on its strand, when it has closed.
  void forget(TcpConnection* connection);

 private:
  void doAccept();
  void onAccept(const asio::error_code& error, asio::ip::tcp::socket socket);

  asio::io_context& io_;
  std::shared_ptr<SourceCore> core_;
  const TlsContextPtr tls_;
  const Transport transport_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;  // after accept errors such as EMFILE
  std::string endpoint_;

  std::mutex mu_;
  bool closing_ = false;  // guarded by mu_
  std::unordered_map<TcpConnection*, std::weak_ptr<TcpConnection>> connections_;  // guarded by mu_
};

class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(std::shared_ptr<SourceCore> core, std::weak_ptr<TcpListener> listener,
                asio::ip::tcp::socket socket, TlsContextPtr tls);
  void start();
  // Posts a close to the connection's strand; `guard` is released after it ran.
  void close(std::shared_ptr<void> guard);

 private:
  void onHandshake(const asio::error_code& error);
  void doRead();
  void onRead(const asio::error_code& error, size_t bytes);
  void decodeChunk(std::string_view data, bool eof);
  void deliver();
  void armIdleTimer(std::chrono::steady_clock::time_point at);
  void shutdown();

  std::shared_ptr<SourceCore> core_;
  std::weak_ptr<TcpListener> listener_;
  const Transport transport_;
  SyslogMetrics::PerTransport& metrics_;
  asio::ip::tcp::socket socket_;  // its executor is this connection's strand
  const TlsContextPtr tls_context_;  // outlives tls_
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;  // over socket_; null for TCP
  asio::steady_timer retry_timer_;
  asio::steady_timer idle_timer_;
  std::string peer_;
  Framer framer_;
  std::vector<char> buffer_;
  std::deque<EventBatch> pending_;  // decoded, not yet accepted by the sink
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point idle_deadline_;
  bool reading_ = false;      // waiting on the peer (a read or the TLS handshake)
  bool handshaking_ = false;
  bool eof_ = false;
  bool closed_ = false;
};

}  // namespace vigil::connectors::syslog
