#include "tests/support/vigild_fixture.h"

#include <csignal>
#include <sstream>

#include <gtest/gtest.h>

namespace vigil::testing {

std::string vigildPath() { return VIGIL_VIGILD_PATH; }
std::string vigilctlPath() { return VIGIL_VIGILCTL_PATH; }
std::string sourceDir() { return VIGIL_SOURCE_DIR; }

VigildInstance::VigildInstance(const std::string& extra_yaml, const std::string& http_extra,
                               const std::string& syslog_extra)
    : http_port_(freePort()), syslog_port_(freePort()) {
  config_path_ = dir_.file("vigil.yaml");
  log_path_ = dir_.file("vigild.log");
  writeFile(config_path_,
            "data_dir: " + dir_.file("data") + "\n" +
            "log: {level: debug}\n"
            "http:\n  listen: 127.0.0.1:" + std::to_string(http_port_) + "\n" + http_extra +
            "syslog:\n  listen: [tcp://127.0.0.1:" + std::to_string(syslog_port_) +
            ", udp://127.0.0.1:" + std::to_string(syslog_port_) + "]\n" + syslog_extra +
            "rules: {files: [" + sourceDir() + "/config/rules.d/*.yaml]}\n" + extra_yaml);
}

VigildInstance::~VigildInstance() {
  if (process_ && process_->running()) process_->stop(SIGKILL);
}

bool VigildInstance::start() {
  process_ = std::make_unique<Process>(std::vector<std::string>{vigildPath(), "--config", config_path_}, log_path_);
  bool ready = false;
  waitFor([&] {
    if (!process_->running()) return true;  // died: no point waiting
    ready = httpGet(url("/readyz")).status == 200;
    return ready;
  });
  return ready;
}

int VigildInstance::stop() { return process_ ? process_->stop(SIGTERM) : -1; }
int VigildInstance::kill() { return process_ ? process_->stop(SIGKILL) : -1; }

nlohmann::json VigildInstance::getJson(const std::string& path) const {
  auto r = httpGet(url(path));
  if (r.status != 200) return nullptr;
  return nlohmann::json::parse(r.body, nullptr, false);
}

nlohmann::json VigildInstance::incidents(const std::string& query) const {
  auto j = getJson("/api/v1/incidents" + (query.empty() ? "" : "?" + query));
  return j.is_object() ? j["incidents"] : nlohmann::json::array();
}

double metricValue(const VigildInstance& vigild, const std::string& name, const std::vector<std::string>& labels,
                   const std::string& token) {
  const HttpResponse response = httpGet(vigild.url("/metrics"), token);
  if (response.status != 200) return -1;
  std::istringstream in(response.body);
  double sum = 0;
  bool found = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size() ||
        (line[name.size()] != '{' && line[name.size()] != ' ')) {
      continue;
    }
    const size_t space = line.rfind(' ');
    const std::string series = line.substr(0, space);
    bool match = true;
    for (const std::string& label : labels) match = match && series.find(label) != std::string::npos;
    if (!match) continue;
    sum += std::stod(line.substr(space + 1));
    found = true;
  }
  return found ? sum : -1;
}

void replaceInConfig(const VigildInstance& vigild, const std::string& from, const std::string& to) {
  std::string config = readFile(vigild.configPath());
  const auto at = config.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  config.replace(at, from.size(), to);
  writeFile(vigild.configPath(), config);
}

}  // namespace vigil::testing
