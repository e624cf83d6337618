#include "tests/support/vigild_fixture.h"

#include <csignal>

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

}  // namespace vigil::testing
