// Starts the real vigild binary on free loopback ports with a temporary data dir.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace vigil::testing {

class VigildInstance {
 public:
  // `extra_yaml` is appended to the generated config (top-level keys); `http_extra` goes inside
  // the http section and `syslog_extra` inside the syslog section (lines indented by two spaces).
  explicit VigildInstance(const std::string& extra_yaml = "", const std::string& http_extra = "",
                          const std::string& syslog_extra = "");
  ~VigildInstance();

  // Starts vigild and waits until /readyz answers 200. False (with the log) on failure.
  bool start();
  // SIGTERM and wait; returns the exit code.
  int stop();
  // SIGKILL: a crash.
  int kill();

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(http_port_) + path; }
  uint16_t syslogPort() const { return syslog_port_; }
  const std::string& configPath() const { return config_path_; }
  std::string log() const { return readFile(log_path_); }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  const TempDir& dir() const { return dir_; }

  nlohmann::json getJson(const std::string& path) const;
  // The incidents the API lists for a query string such as "state=open".
  nlohmann::json incidents(const std::string& query = "") const;

 private:
  TempDir dir_;
  uint16_t http_port_;
  uint16_t syslog_port_;
  std::string config_path_;
  std::string log_path_;
  std::unique_ptr<Process> process_;
};

// Sum of the samples of `name` on vigild's /metrics whose labels include every `k="v"` given
// (e.g. {"transport=\"udp\"", "reason=\"queue_full\""}). `name` may also be a whole series,
// `vigil_x{a="b"}`. -1 when /metrics does not answer or no sample matches.
double metricValue(const VigildInstance& vigild, const std::string& name, const std::vector<std::string>& labels = {},
                   const std::string& token = "");

// Replaces the first `from` in the instance's config file with `to` (fails the test if absent).
void replaceInConfig(const VigildInstance& vigild, const std::string& from, const std::string& to);

// The path of a built binary (set by CMake).
std::string vigildPath();
std::string vigilctlPath();
std::string sourceDir();

}  // namespace vigil::testing
