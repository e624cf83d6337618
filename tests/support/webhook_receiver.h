// A real HTTP receiver process for webhook tests (tests/support/webhook_receiver.py) on a free
// loopback port: it logs every call (status, Idempotency-Key, path, body) as JSON lines, fails
// its first `fail_first` calls with 500, and answers the status in `statusFile()` while that
// file holds one.
#pragma once

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/vigild_fixture.h"

namespace vigil::testing {

class WebhookReceiver {
 public:
  // `name` keeps the files of several receivers in one directory apart.
  WebhookReceiver(const TempDir& dir, int fail_first, const std::string& name = "receiver")
      : port_file_(dir.file(name + ".port")), log_(dir.file(name + ".jsonl")), status_file_(dir.file(name + ".status")) {
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/python3", sourceDir() + "/tests/support/webhook_receiver.py", "--port-file",
                                 port_file_, "--log", log_, "--fail-first", std::to_string(fail_first),
                                 "--status-file", status_file_},
        dir.file(name + ".out"));
  }
  // The port it listens on (waits for it; 0 when it did not start).
  uint16_t port() const {
    uint16_t port = 0;
    waitFor([&] {
      const std::string text = readFile(port_file_);
      if (!text.empty()) port = static_cast<uint16_t>(std::stoi(text));
      return port != 0;
    });
    return port;
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port()) + path; }
  // Every call from now on gets `status` (0: back to normal).
  void answer(int status) const { writeFile(status_file_, status ? std::to_string(status) : ""); }
  std::vector<nlohmann::json> calls() const {
    std::vector<nlohmann::json> out;
    std::istringstream in(readFile(log_));
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }
  // Idempotency key → how many times the receiver acknowledged it with a 200.
  std::map<std::string, int> acknowledged() const {
    std::map<std::string, int> out;
    for (const auto& c : calls()) {
      if (c["status"] == 200) out[c["key"].get<std::string>()]++;
    }
    return out;
  }

 private:
  std::string port_file_, log_, status_file_;
  std::unique_ptr<Process> process_;
};

}  // namespace vigil::testing
