// Test support: real processes (vigild, logger, kcat …) started and stopped by pid, HTTP calls
// through libcurl, free loopback ports, and waiting on conditions instead of sleeping.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "daemon/cli/http_client.h"

namespace vigil::testing {

// A child process; killed with SIGKILL on destruction if still running.
class Process {
 public:
  // Starts argv[0] (searched in PATH) with stdout and stderr appended to `log_path`.
  Process(std::vector<std::string> argv, const std::string& log_path);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `signal`, waits up to `timeout` for the exit; returns the exit code, or -signal when
  // killed by a signal, or -1000 on timeout.
  int stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(60));

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

// Runs a command to completion; returns its exit code (or -1). Output goes to `output` if given.
int run(const std::vector<std::string>& argv, std::string* output = nullptr);

// A TCP (or UDP) port on 127.0.0.1 that was free a moment ago, and not returned before by this process.
uint16_t freePort(bool udp = false);

using cli::HttpResponse;
using cli::httpGet;
using cli::httpPost;
using cli::httpRequest;

// Polls `condition` every 50 ms until it holds or `timeout` passes.
bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout = std::chrono::seconds(30));

std::string readFile(const std::string& path);
void writeFile(const std::string& path, const std::string& text);

}  // namespace vigil::testing
