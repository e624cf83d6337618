// UDP side of the syslog source: one socket per udp:// endpoint; one datagram is one message.
// Internal to connectors/syslog.
// When the socket is readable, up to batch_max_events datagrams already queued in the kernel are
// read (non-blocking) into one batch. If the sink refuses it the batch is dropped and counted
// (vigil_syslog_dropped_total{transport="udp",reason="queue_full"}): UDP cannot push back.
// Thread-safety: all handlers run on the listener's strand; close() may be called from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/ip/udp.hpp>
#include <asio/strand.hpp>

#include "connectors/syslog/syslog_core.h"

namespace vigil::connectors::syslog {

class UdpListener : public std::enable_shared_from_this<UdpListener> {
 public:
  UdpListener(asio::io_context& io, std::shared_ptr<SourceCore> core);
  // Opens and binds synchronously on the calling thread; sets SO_RCVBUF when configured.
  Status bind(const ListenAddress& address);
  std::string endpoint() const { return endpoint_; }  // "udp://127.0.0.1:40123"
  void start();
  // Closes the socket on the strand; `guard` is released after that ran.
  void close(std::shared_ptr<void> guard);

 private:
  void doWait();
  void onReadable(const asio::error_code& error);
  const std::string& peerOf(const asio::ip::udp::endpoint& from);

  std::shared_ptr<SourceCore> core_;
  asio::ip::udp::socket socket_;  // its executor is a strand
  std::string endpoint_;
  std::vector<char> buffer_;      // max_message_size + 1, to detect oversize datagrams
  asio::ip::udp::endpoint last_from_;
  std::string last_peer_;         // cached text of last_from_
  bool closed_ = false;
};

}  // namespace vigil::connectors::syslog
