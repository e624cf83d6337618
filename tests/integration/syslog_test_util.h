// Helpers for the syslog integration tests against the real vigild.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "tests/support/vigild_fixture.h"

namespace vigil::testing {

// Sum of the samples of `name` on vigild's /metrics whose labels include every `k="v"` given
// (e.g. {"transport=\"udp\"", "reason=\"queue_full\""}); -1 when /metrics does not answer.
inline double metricValue(const VigildInstance& vigild, const std::string& name,
                          const std::vector<std::string>& labels = {}) {
  const HttpResponse response = httpGet(vigild.url("/metrics"));
  if (response.status != 200) return -1;
  std::istringstream in(response.body);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size() ||
        (line[name.size()] != '{' && line[name.size()] != ' ')) {
      continue;
    }
    const size_t space = line.rfind(' ');
    const std::string series = line.substr(0, space);
    bool match = true;
    for (const std::string& label : labels) match = match && series.find(label) != std::string::npos;
    if (match) sum += std::stod(line.substr(space + 1));
  }
  return sum;
}

}  // namespace vigil::testing
