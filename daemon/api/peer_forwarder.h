// PeerForwarder: sends an API request on to the scale-out core that owns the incident
// (docs/scale-out.md, "Read side") and hands back its answer, off the API's io threads.
// A bounded queue and a fixed pool of worker threads running blocking libcurl calls, each
// bounded by the timeout, so a slow or dead peer costs at most `timeout` per request and
// never more threads or memory than configured.
// Thread-safety: forward() from any thread; `done` runs on a worker thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

namespace vigil::api {

// The header that marks a forwarded request: its receiver answers itself, never forwards again.
inline constexpr std::string_view kForwardedByHeader = "Vigil-Forwarded-By";

class PeerForwarder {
 public:
  struct Request {
    std::string method;  // "GET" or "POST"
    std::string url;     // the owner's base URL + path
    std::string body;
    std::string authorization;  // the caller's Authorization header, passed on as is
    std::string forwarded_by;   // this instance's advertised URL
  };
  struct Answer {
    long status = 0;  // 0: no answer (error says why)
    std::string body;
    std::string error;
  };

  PeerForwarder(std::chrono::milliseconds timeout, prometheus::Registry& registry, size_t workers = 2,
                size_t max_queued = 256);
  ~PeerForwarder();
  PeerForwarder(const PeerForwarder&) = delete;
  PeerForwarder& operator=(const PeerForwarder&) = delete;

  // Queues the request; false (and `done` is not called) when the queue is full.
  bool forward(Request request, std::function<void(Answer)> done);

 private:
  void work();

  const std::chrono::milliseconds timeout_;
  const size_t max_queued_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Counter& answered_;
  prometheus::Counter& unreachable_;
  prometheus::Counter& queue_full_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Request, std::function<void(Answer)>>> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                                              // GUARDED_BY(mu_)
  std::vector<std::thread> workers_;
};

}  // namespace vigil::api
