// Debian's rsyslog, run as a plain process with its own config (no system socket, its own work
// directory), forwards to the real vigild with omfwd over TCP, once octet-counted (RFC 5424
// template; rsyslog's count includes its trailing LF) and once LF-framed (its traditional
// forward format, RFC 3164 style). Both must open incidents.
#include <csignal>

#include <gtest/gtest.h>

#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

nlohmann::json findByKey(const nlohmann::json& incidents, const std::string& key) {
  for (const auto& in : incidents) {
    if (in["key"] == key) return in;
  }
  return nullptr;
}

bool haveRsyslog() { return run({"rsyslogd", "-v"}) == 0; }

TEST(SyslogRsyslog, OmfwdOverTcpOctetCountedAndLfFramedOpensIncidents) {
  if (!haveRsyslog()) GTEST_SKIP() << "rsyslog not installed (scripts/debian-packages.txt lists it)";
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const std::string port = std::to_string(vigild.syslogPort());

  TempDir dir;
  const std::string octet_log = dir.file("octet.log");
  const std::string lf_log = dir.file("lf.log");
  writeFile(octet_log, "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down\n");
  writeFile(lf_log, "%LINK-3-UPDOWN: Interface GigabitEthernet0/2, changed state to down\n");
  const std::string conf = dir.file("rsyslog.conf");
  // No imuxsock and no imklog: this rsyslog reads only our two files and touches nothing global.
  writeFile(conf, "global(workDirectory=\"" + dir.path().string() +
                      "\" localHostname=\"edge-rtr-7\")\n"
                      "module(load=\"imfile\" mode=\"polling\" PollingInterval=\"1\")\n"
                      "input(type=\"imfile\" File=\"" + octet_log +
                      "\" Tag=\"ios\" Facility=\"local7\" Severity=\"error\" ruleset=\"octet\")\n"
                      "input(type=\"imfile\" File=\"" + lf_log +
                      "\" Tag=\"ios:\" Facility=\"local7\" Severity=\"error\" ruleset=\"lf\")\n"
                      "ruleset(name=\"octet\") {\n"
                      "  action(type=\"omfwd\" target=\"127.0.0.1\" port=\"" + port +
                      "\" protocol=\"tcp\" TCP_Framing=\"octet-counted\""
                      " template=\"RSYSLOG_SyslogProtocol23Format\")\n"
                      "}\n"
                      "ruleset(name=\"lf\") {\n"
                      "  action(type=\"omfwd\" target=\"127.0.0.1\" port=\"" + port +
                      "\" protocol=\"tcp\" template=\"RSYSLOG_ForwardFormat\")\n"
                      "}\n");
  std::string check;
  ASSERT_EQ(run({"rsyslogd", "-N1", "-f", conf}, &check), 0) << check;
  Process rsyslog({"rsyslogd", "-n", "-f", conf, "-i", dir.file("rsyslogd.pid")}, dir.file("rsyslogd.log"));

  nlohmann::json octet;
  nlohmann::json lf;
  EXPECT_TRUE(waitFor([&] {
    const auto open = vigild.incidents("state=open");
    octet = findByKey(open, "edge-rtr-7/link/GigabitEthernet0/1");
    lf = findByKey(open, "edge-rtr-7/link/GigabitEthernet0/2");
    return !octet.is_null() && !lf.is_null();
  }, std::chrono::seconds(60))) << vigild.incidents().dump() << "\nrsyslogd:\n"
                                 << readFile(dir.file("rsyslogd.log")) << "\nvigild:\n" << vigild.log();
  ASSERT_FALSE(octet.is_null());
  ASSERT_FALSE(lf.is_null());
  EXPECT_EQ(octet["labels"]["mnemonic"], "LINK-3-UPDOWN");
  EXPECT_EQ(octet["labels"]["app"], "ios");
  EXPECT_EQ(octet["labels"]["facility"], "local7");
  EXPECT_EQ(lf["labels"]["mnemonic"], "LINK-3-UPDOWN");
  EXPECT_EQ(lf["labels"]["app"], "ios");

  // A clearing message appended to the file travels the same way and resolves the incident.
  writeFile(octet_log, readFile(octet_log) +
                           "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up\n");
  EXPECT_TRUE(waitFor([&] {
    auto j = vigild.getJson("/api/v1/incidents/" + std::to_string(octet["id"].get<uint64_t>()));
    return j.is_object() && j["state"] == "resolved";
  }, std::chrono::seconds(60))) << readFile(dir.file("rsyslogd.log"));

  // rsyslog's framing was understood: nothing malformed, nothing dropped.
  EXPECT_EQ(metricValue(vigild, "vigil_syslog_messages_total", {"transport=\"tcp\""}), 3);
  EXPECT_EQ(metricValue(vigild, "vigil_syslog_unparsed_total"), 0);
  EXPECT_EQ(metricValue(vigild, "vigil_syslog_dropped_total"), 0);
  EXPECT_EQ(rsyslog.stop(SIGTERM), 0);
  EXPECT_EQ(vigild.stop(), 0);
}

}  // namespace
}  // namespace vigil::testing
