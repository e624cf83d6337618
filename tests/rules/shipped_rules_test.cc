// The shipped config/rules.d/*.yaml, exercised with lines as real devices send them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/rules/test_util.h"

namespace vigil::rules {
namespace {

using testing::makeEvent;

struct DeviceLine {
  std::string host;
  std::string message;
  std::string app;
  Action action;
  std::string interface;  // expected label and key part; "" when no rule should match
  std::string rule;
};

std::vector<DeviceLine> deviceLines() {
  return {
      // Cisco IOS / IOS-XE.
      {"r1", "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down", "", Action::kOpen,
       "GigabitEthernet0/1", "cisco-link-down"},
      {"r1", "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up", "",
       Action::kResolve, "GigabitEthernet0/1", "cisco-link-up"},
      {"r1",
       "%LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/1, changed state to down",
       "", Action::kOpen, "GigabitEthernet0/1", "cisco-link-down"},
      {"r1", "%LINEPROTO-5-UPDOWN: Line protocol on Interface Vlan10, changed state to up", "",
       Action::kResolve, "Vlan10", "cisco-link-up"},
      {"r1",
       "000123: *Mar  1 00:01:02.345: %LINK-3-UPDOWN: Interface TenGigabitEthernet1/0/1, changed "
       "state to down",
       "", Action::kOpen, "TenGigabitEthernet1/0/1", "cisco-link-down"},
      {"r1", "%LINK-5-CHANGED: Interface GigabitEthernet0/2, changed state to administratively down",
       "", Action::kResolve, "GigabitEthernet0/2", "cisco-link-admin-down"},
      // Arista EOS (Cisco wording, description in parentheses).
      {"leaf1", "%LINEPROTO-5-UPDOWN: Line protocol on Interface Ethernet28, changed state to down",
       "Ebra", Action::kOpen, "Ethernet28", "cisco-link-down"},
      {"leaf1",
       "%LINEPROTO-5-UPDOWN: Line protocol on Interface Ethernet49/1 (to-spine1), changed state to "
       "up",
       "Ebra", Action::kResolve, "Ethernet49/1", "cisco-link-up"},
      // Cisco NX-OS.
      {"n9k", "%ETHPORT-5-IF_DOWN_LINK_FAILURE: Interface Ethernet1/1 is down (Link failure)", "",
       Action::kOpen, "Ethernet1/1", "nxos-link-down"},
      {"n9k", "%ETHPORT-5-IF_DOWN_ADMIN_DOWN: Interface Ethernet1/2 is down (Administratively down)",
       "", Action::kResolve, "Ethernet1/2", "nxos-link-admin-down"},
      {"n9k", "%ETHPORT-5-IF_UP: Interface Ethernet1/1 is up in mode access", "", Action::kResolve,
       "Ethernet1/1", "nxos-link-up"},
      // Juniper Junos, with and without the tag left in the message.
      {"mx1",
       "SNMP_TRAP_LINK_DOWN: ifIndex 512, ifAdminStatus up(1), ifOperStatus down(2), ifName "
       "ge-0/0/1",
       "mib2d", Action::kOpen, "ge-0/0/1", "junos-link-down"},
      {"mx1",
       "SNMP_TRAP_LINK_UP: ifIndex 512, ifAdminStatus up(1), ifOperStatus up(1), ifName ge-0/0/1",
       "mib2d", Action::kResolve, "ge-0/0/1", "junos-link-up"},
      {"mx1", "ifIndex 513, ifAdminStatus up(1), ifOperStatus down(2), ifName xe-0/1/0.0", "mib2d",
       Action::kOpen, "xe-0/1/0.0", "junos-link-down"},
      {"mx1",
       "SNMP_TRAP_LINK_DOWN: ifIndex 514, ifAdminStatus down(2), ifOperStatus down(2), ifName "
       "ge-0/0/3",
       "mib2d", Action::kResolve, "ge-0/0/3", "junos-link-admin-down"},
      // Linux kernel drivers and bonding.
      {"web1", "e1000e 0000:00:19.0 eth0: NIC Link is Down", "kernel", Action::kOpen, "eth0",
       "linux-nic-link-down"},
      {"web1", "e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: None",
       "kernel", Action::kResolve, "eth0", "linux-nic-link-up"},
      {"web1", "eth0: Link is Down", "kernel", Action::kOpen, "eth0", "linux-nic-link-down"},
      {"web1", "[ 1234.567890] r8169 0000:02:00.0 enp2s0: Link is Up - 1Gbps/Full - flow control rx/tx",
       "kernel", Action::kResolve, "enp2s0", "linux-nic-link-up"},
      {"web1", "igb 0000:01:00.0 eth1: igb: eth1 NIC Link is Down", "kernel", Action::kOpen, "eth1",
       "linux-nic-link-down"},
      {"web1", "mlx5_core 0000:3b:00.0 ens1f0: Link down", "kernel", Action::kOpen, "ens1f0",
       "linux-nic-link-down"},
      {"web1", "bond0: link status definitely down for interface eth1, disabling it", "kernel",
       Action::kOpen, "eth1", "linux-bond-member-down"},
      {"web1", "bond0: link status definitely up for interface eth1, 1000 Mbps full duplex",
       "kernel", Action::kResolve, "eth1", "linux-bond-member-up"},
      // Lines that are not about a link.
      {"r1", "%SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)", "",
       Action::kNone, "", ""},
      {"web1", "Accepted publickey for deploy from 10.0.0.9 port 50122 ssh2", "sshd",
       Action::kNone, "", ""},
      {"r1", "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to testing", "",
       Action::kNone, "", ""},
  };
}

TEST(ShippedRules, RecogniseRealDeviceLines) {
  auto set = RuleSet::loadFiles({"config/rules.d/*.yaml"}, VIGIL_SOURCE_DIR);
  ASSERT_TRUE(set) << set.error().message();
  ASSERT_GE((*set)->size(), 12u);
  Decision d;
  for (const DeviceLine& line : deviceLines()) {
    SCOPED_TRACE(line.message);
    Event e = makeEvent({.source = "syslog/udp", .host = line.host, .message = line.message});
    if (!line.app.empty()) e.labels.set("app", line.app);
    (*set)->evaluate(e, d);
    EXPECT_EQ(d.action, line.action);
    EXPECT_EQ(d.rule, line.rule);
    if (line.interface.empty()) {
      EXPECT_EQ(d.key, "");
      continue;
    }
    EXPECT_EQ(e.type, "link");
    EXPECT_EQ(d.key, line.host + "/link/" + line.interface);
    ASSERT_NE(e.labels.find("interface"), nullptr);
    EXPECT_EQ(*e.labels.find("interface"), line.interface);
    EXPECT_EQ(d.title.rfind("Link down on " + line.host + " " + line.interface, 0), 0u) << d.title;
    if (line.action == Action::kOpen) {
      EXPECT_EQ(e.severity, Severity::kMajor);
    }
  }
}

TEST(ShippedRules, OnlyApplyToSyslog) {
  auto set = RuleSet::loadFiles({"config/rules.d/*.yaml"}, VIGIL_SOURCE_DIR);
  ASSERT_TRUE(set) << set.error().message();
  Event e = makeEvent({.source = "kafka/alerts",
                       .message = "%LINK-3-UPDOWN: Interface Gi0/1, changed state to down"});
  Decision d;
  (*set)->evaluate(e, d);
  EXPECT_EQ(d.action, Action::kNone);
}

}  // namespace
}  // namespace vigil::rules
