#include "daemon/api/peer_forwarder.h"

#include <curl/curl.h>

namespace vigil::api {

namespace {

size_t appendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

PeerForwarder::Answer perform(const PeerForwarder::Request& request, std::chrono::milliseconds timeout) {
  PeerForwarder::Answer answer;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    answer.error = "libcurl: cannot create a handle";
    return answer;
  }
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  const std::string by = std::string(kForwardedByHeader) + ": " + request.forwarded_by;
  headers = curl_slist_append(headers, by.c_str());
  const std::string auth = "Authorization: " + request.authorization;
  if (!request.authorization.empty()) headers = curl_slist_append(headers, auth.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  } else {
    answer.error = curl_easy_strerror(code);
    answer.body.clear();
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return answer;
}

}  // namespace

PeerForwarder::PeerForwarder(std::chrono::milliseconds timeout, prometheus::Registry& registry, size_t workers,
                             size_t max_queued)
    : timeout_(timeout),
      max_queued_(max_queued),
      requests_(prometheus::BuildCounter()
                    .Name("vigil_scaleout_forwarded_requests_total")
                    .Help("API requests on another core's incidents sent on to their owner, by result: answered "
                          "(any status), unreachable (no answer: 503), queue_full (503 without trying)")
                    .Register(registry)),
      answered_(requests_.Add({{"result", "answered"}})),
      unreachable_(requests_.Add({{"result", "unreachable"}})),
      queue_full_(requests_.Add({{"result", "queue_full"}})) {
  for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
}

PeerForwarder::~PeerForwarder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
}

bool PeerForwarder::forward(Request request, std::function<void(Answer)> done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_) {
      queue_full_.Increment();
      return false;
    }
    queue_.emplace_back(std::move(request), std::move(done));
  }
  cv_.notify_one();
  return true;
}

void PeerForwarder::work() {
  for (;;) {
    std::pair<Request, std::function<void(Answer)>> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued was answered
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    Answer answer = perform(job.first, timeout_);
    (answer.status != 0 ? answered_ : unreachable_).Increment();
    job.second(std::move(answer));
  }
}

}  // namespace vigil::api
