#include "connectors/syslog/syslog_udp.h"

#include <asio/post.hpp>
#include <spdlog/spdlog.h>

#include "connectors/syslog/parse_util.h"

namespace vigil::connectors::syslog {

UdpListener::UdpListener(asio::io_context& io, std::shared_ptr<SourceCore> core)
    : core_(std::move(core)), socket_(asio::make_strand(io)),
      buffer_(core_->config.max_message_size + 1) {}

Status UdpListener::bind(const ListenAddress& address) {
  asio::error_code error;
  const asio::ip::udp::endpoint endpoint(asio::ip::make_address(address.host, error), address.port);
  if (!error) socket_.open(endpoint.protocol(), error);
  if (!error && core_->config.udp_receive_buffer) {
    socket_.set_option(
        asio::socket_base::receive_buffer_size(static_cast<int>(*core_->config.udp_receive_buffer)),
        error);
  }
  if (!error) socket_.bind(endpoint, error);
  if (!error) socket_.non_blocking(true, error);
  asio::ip::udp::endpoint local;
  if (!error) local = socket_.local_endpoint(error);
  if (error) {
    asio::error_code ignored;
    socket_.close(ignored);
    return Status::ioError("syslog: cannot listen on " + address.toString() + ": " + error.message());
  }
  endpoint_ = ListenAddress{Transport::kUdp, local.address().to_string(), local.port()}.toString();
  return Status::ok();
}

void UdpListener::start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->doWait(); });
}

void UdpListener::close(std::shared_ptr<void> guard) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), guard] {
    self->closed_ = true;
    asio::error_code ignored;
    self->socket_.close(ignored);
  });
}

void UdpListener::doWait() {
  if (closed_) {
    return;
  }
  socket_.async_wait(asio::socket_base::wait_read,
                     [self = shared_from_this()](const asio::error_code& error) {
                       self->onReadable(error);
                     });
}

const std::string& UdpListener::peerOf(const asio::ip::udp::endpoint& from) {
  if (last_peer_.empty() || from.address() != last_from_.address()) {
    last_from_ = from;
    asio::ip::address address = from.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    last_peer_ = address.to_string();
  }
  return last_peer_;
}

void UdpListener::onReadable(const asio::error_code& error) {
  if (closed_ || error == asio::error::operation_aborted) {
    return;
  }
  if (error) {
    spdlog::warn("syslog: udp wait on {} failed: {}", endpoint_, error.message());
    doWait();
    return;
  }
  SyslogMetrics::PerTransport& m = core_->metrics.udp;
  const TimePoint now = Clock::now();
  EventBatch batch;
  for (size_t i = 0; i < core_->config.batch_max_events; ++i) {
    asio::ip::udp::endpoint from;
    asio::error_code e;
    const size_t n = socket_.receive_from(asio::buffer(buffer_), from, 0, e);
    if (e == asio::error::would_block || e == asio::error::try_again) {
      break;
    }
    if (e) {
      // ICMP errors and the like: nothing to read from this datagram.
      spdlog::debug("syslog: udp receive on {} failed: {}", endpoint_, e.message());
      break;
    }
    m.messages->Increment();
    m.bytes->Increment(static_cast<double>(n));
    const std::string& peer = peerOf(from);
    if (n > core_->config.max_message_size) {
      m.dropped_oversize.Increment();
      core_->warnInput("oversize datagram dropped", peer, std::string_view(buffer_.data(), 64));
      continue;
    }
    core_->decode(std::string_view(buffer_.data(), n), Transport::kUdp, peer, now, batch.events);
  }
  if (!batch.events.empty()) {
    const size_t count = batch.events.size();
    switch (core_->offer(batch)) {
      case SourceCore::Offer::kAccepted:
        break;
      case SourceCore::Offer::kFull:
        m.dropped_queue_full.Increment(static_cast<double>(count));
        core_->warnInput("pipeline full, udp batch dropped", endpoint_, "");
        break;
      case SourceCore::Offer::kStopped:
        return;
    }
  }
  doWait();
}

}  // namespace vigil::connectors::syslog
