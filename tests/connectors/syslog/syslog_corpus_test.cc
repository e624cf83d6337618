// Parses every line shape in corpus/*.txt and checks the fields listed under it
// (see corpus/README.md for the format).
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "connectors/syslog/syslog_parser.h"
#include "tests/connectors/syslog/test_util.h"

namespace vigil::connectors::syslog {
namespace {

struct Case {
  std::string file;
  int line = 0;
  std::string raw;
  std::vector<std::pair<std::string, std::string>> expect;
};

std::vector<Case> loadCorpus() {
  std::vector<Case> cases;
  for (const auto& entry : std::filesystem::directory_iterator(VIGIL_SYSLOG_CORPUS_DIR)) {
    if (entry.path().extension() != ".txt") continue;
    std::ifstream in(entry.path());
    std::string text;
    int number = 0;
    while (std::getline(in, text)) {
      ++number;
      if (text.empty() || text[0] == '#') continue;
      if (text.rfind("  ", 0) == 0) {
        const size_t colon = text.find(':');
        if (cases.empty() || colon == std::string::npos) {
          ADD_FAILURE() << entry.path() << ":" << number << ": bad expectation line";
          continue;
        }
        std::string value = text.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        cases.back().expect.emplace_back(text.substr(2, colon - 2), value);
      } else {
        cases.push_back({entry.path().filename().string(), number, text, {}});
      }
    }
  }
  return cases;
}

std::string field(const SyslogMessage& m, const std::string& key) {
  if (key == "format") return m.format == SyslogFormat::kRfc5424 ? "5424" : "3164";
  if (key == "pri") return std::string(facilityName(m.facility)) + "." + std::string(severityKeyword(m.severity));
  if (key == "host") return std::string(m.hostname);
  if (key == "app") return std::string(m.app_name);
  if (key == "procid") return std::string(m.procid);
  if (key == "msgid") return std::string(m.msgid);
  if (key == "mnemonic") return std::string(m.mnemonic);
  if (key == "seq") return std::string(m.sequence);
  if (key == "msg") return std::string(m.msg);
  if (key == "time") return m.timestamp ? testing::iso(*m.timestamp) : "none";
  if (key == "sd") {
    std::string out;
    SdElementIterator elements(m.structured_data);
    SdElement e;
    while (elements.next(e)) {
      SdParamIterator params = e.params();
      SdParam p;
      while (params.next(p)) {
        if (!out.empty()) out += ';';
        out += std::string(e.id) + "." + std::string(p.name) + "=";
        p.appendValue(out);
      }
    }
    return out;
  }
  return "<unknown key " + key + ">";
}

TEST(SyslogCorpus, ParsesEveryRealWorldLineShape) {
  const std::vector<Case> cases = loadCorpus();
  ASSERT_GE(cases.size(), 25u);
  const TimePoint now = testing::utc(2024, 6, 15, 12);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file + ":" + std::to_string(c.line) + ": " + c.raw);
    auto m = parseSyslog(c.raw, now);
    ASSERT_TRUE(m.has_value()) << parseErrorName(m.error());
    EXPECT_FALSE(c.expect.empty()) << "no expectations";
    for (const auto& [key, value] : c.expect) {
      EXPECT_EQ(field(*m, key), value) << "field " << key;
    }
  }
}

}  // namespace
}  // namespace vigil::connectors::syslog
