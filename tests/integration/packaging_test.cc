// Install and packaging, checked on the real artefacts: `cmake --install` into a DESTDIR root
// (FHS places, the packaged config), the systemd unit in that root through systemd-analyze
// (verify, and an exposure score of 2.0 or lower), and the .deb that cpack builds, read back
// with dpkg-deb (contents, conffiles, Depends, maintainer scripts).
#include <sys/stat.h>

#include <filesystem>
#include <regex>

#include <gtest/gtest.h>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

bool haveProgram(const std::string& name) { return run({"sh", "-c", "command -v " + name}) == 0; }

// `cmake --install` of the build tree with prefix /usr into `root`.
void installInto(const TempDir& root) {
  std::string out;
  ASSERT_EQ(run({"env", "DESTDIR=" + root.path().string(), VIGIL_CMAKE_COMMAND, "--install", VIGIL_BINARY_DIR,
                 "--prefix", "/usr"},
                &out),
            0)
      << out;
}

TEST(Install, PutsEverythingInFhsPlaces) {
  TempDir root;
  installInto(root);
  const fs::path r = root.path();
  for (const char* path :
       {"usr/bin/vigild", "usr/bin/vigilctl", "etc/vigil/vigil.yaml", "etc/vigil/cmdb.yaml", "etc/vigil/vigild.env",
        "etc/vigil/rules.d/10-network-links.yaml", "usr/share/vigil/web/board.html",
        "usr/lib/systemd/system/vigild.service", "usr/lib/sysusers.d/vigil.conf", "usr/lib/tmpfiles.d/vigil.conf",
        "usr/share/man/man8/vigild.8", "usr/share/man/man1/vigilctl.1", "usr/share/man/man5/vigil-rules.5"}) {
    EXPECT_TRUE(fs::exists(r / path)) << path;
  }
  const std::string config = readFile((r / "etc/vigil/vigil.yaml").string());
  EXPECT_NE(config.find("\ndata_dir: /var/lib/vigil\n"), std::string::npos) << config;
  EXPECT_EQ(config.find("./vigil-data"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat((r / "etc/vigil/vigild.env").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string unit = readFile((r / "usr/lib/systemd/system/vigild.service").string());
  EXPECT_NE(unit.find("ExecStart=/usr/bin/vigild --config /etc/vigil/vigil.yaml"), std::string::npos) << unit;

  // The installed config, rules and CMDB pass the installed binary's check (rules and CMDB are
  // relative to the config, so they resolve inside the root).
  std::string out;
  EXPECT_EQ(run({(r / "usr/bin/vigild").string(), "--check-config", "--config", (r / "etc/vigil/vigil.yaml").string()},
                &out),
            0)
      << out;
  // The man pages render without warnings.
  if (haveProgram("man")) {
    for (const char* page : {"usr/share/man/man8/vigild.8", "usr/share/man/man1/vigilctl.1",
                             "usr/share/man/man5/vigil-rules.5"}) {
      out.clear();
      EXPECT_EQ(run({"sh", "-c", "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l " + (r / page).string() + " 2>&1 >/dev/null"},
                    &out),
                0);
      EXPECT_EQ(out, "") << page;
    }
  }
}

TEST(Systemd, UnitVerifiesAndIsRatedAtMostTwo) {
  if (!haveProgram("systemd-analyze")) GTEST_SKIP() << "systemd-analyze is not installed on this machine";
  // Installed with the temporary directory as its prefix, the unit names the binary and config
  // there, so verify can check them against this machine's systemd (its targets, /bin/kill).
  TempDir root;
  std::string out;
  ASSERT_EQ(run({VIGIL_CMAKE_COMMAND, "--install", VIGIL_BINARY_DIR, "--prefix", root.path().string()}, &out), 0) << out;
  const std::string unit = (root.path() / "lib/systemd/system/vigild.service").string();
  EXPECT_NE(readFile(unit).find("ExecStart=" + root.file("bin/vigild") + " --config " + root.file("etc/vigil/vigil.yaml")),
            std::string::npos)
      << readFile(unit);

  // Man pages are checked above (they are not where man looks).
  out.clear();
  EXPECT_EQ(run({"systemd-analyze", "verify", "--man=no", unit}, &out), 0) << out;
  EXPECT_EQ(out, "") << out;

  out.clear();
  ASSERT_EQ(run({"systemd-analyze", "security", "--offline=yes", "--threshold=20", unit}, &out), 0) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(Overall exposure level for vigild\.service: ([0-9.]+))"))) << out;
  const double score = std::stod(m[1]);
  std::cout << "systemd-analyze security: vigild.service exposure " << score << "\n";
  EXPECT_LE(score, 2.0) << out;
}

TEST(Package, DebHasContentsConffilesDependsAndScripts) {
  for (const char* tool : {"dpkg-deb", "dpkg-shlibdeps"}) {
    if (!haveProgram(tool)) GTEST_SKIP() << tool << " is not installed on this machine";
  }
  TempDir out_dir;
  std::string out;
  ASSERT_EQ(run({VIGIL_CPACK_COMMAND, "--config", std::string(VIGIL_BINARY_DIR) + "/CPackConfig.cmake", "-B",
                 out_dir.path().string()},
                &out),
            0)
      << out;
  std::string deb;
  for (const auto& entry : fs::directory_iterator(out_dir.path())) {
    if (entry.path().extension() == ".deb") deb = entry.path().string();
  }
  ASSERT_FALSE(deb.empty()) << out;

  std::string contents;
  ASSERT_EQ(run({"dpkg-deb", "-c", deb}, &contents), 0) << contents;
  for (const char* path : {"./usr/bin/vigild", "./usr/bin/vigilctl", "./etc/vigil/vigil.yaml", "./etc/vigil/cmdb.yaml",
                           "./etc/vigil/rules.d/10-network-links.yaml", "./etc/vigil/vigild.env",
                           "./usr/lib/systemd/system/vigild.service", "./usr/lib/sysusers.d/vigil.conf",
                           "./usr/lib/tmpfiles.d/vigil.conf", "./usr/share/vigil/web/board.html",
                           "./usr/share/man/man8/vigild.8"}) {
    EXPECT_NE(contents.find(std::string(path) + "\n"), std::string::npos) << path << "\n" << contents;
  }
  EXPECT_EQ(contents.find("./var/lib/vigil/"), std::string::npos) << "data must not be packaged";
  EXPECT_EQ(contents.find("./usr/local"), std::string::npos);

  std::string info;
  ASSERT_EQ(run({"dpkg-deb", "-f", deb, "Package", "Depends", "Architecture"}, &info), 0) << info;
  EXPECT_NE(info.find("Package: vigil"), std::string::npos) << info;
  for (const char* dep : {"librocksdb7.8", "librdkafka++1", "libyaml-cpp0.7", "libspdlog1.10", "libre2-9",
                          "libprometheus-cpp-core", "libsystemd0", "libcurl4", "systemd | adduser"}) {
    EXPECT_NE(info.find(dep), std::string::npos) << dep << "\n" << info;
  }

  TempDir control;
  ASSERT_EQ(run({"dpkg-deb", "-e", deb, control.path().string()}), 0);
  const std::string conffiles = readFile(control.file("conffiles"));
  for (const char* f : {"/etc/vigil/vigil.yaml\n", "/etc/vigil/cmdb.yaml\n", "/etc/vigil/vigild.env\n",
                        "/etc/vigil/rules.d/10-network-links.yaml\n"}) {
    EXPECT_NE(conffiles.find(f), std::string::npos) << f << "\n" << conffiles;
  }
  const std::string postinst = readFile(control.file("postinst"));
  EXPECT_NE(postinst.find("systemd-sysusers vigil.conf"), std::string::npos);
  EXPECT_NE(postinst.find("adduser --system"), std::string::npos);
  EXPECT_NE(postinst.find("deb-systemd-helper enable vigild.service"), std::string::npos);
  const std::string postrm = readFile(control.file("postrm"));
  // /var/lib/vigil is deleted on purge only.
  const auto purge = postrm.find("\"purge\"");
  const auto rm = postrm.find("rm -rf /var/lib/vigil");
  ASSERT_NE(purge, std::string::npos);
  ASSERT_NE(rm, std::string::npos);
  EXPECT_LT(purge, rm);
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    out.clear();
    EXPECT_EQ(run({"sh", "-n", control.file(script)}, &out), 0) << script << ": " << out;
  }

  // Unpacked, the package's config passes its own binary's check.
  TempDir root;
  ASSERT_EQ(run({"dpkg-deb", "-x", deb, root.path().string()}), 0);
  out.clear();
  EXPECT_EQ(run({(root.path() / "usr/bin/vigild").string(), "--check-config", "--config",
                 (root.path() / "etc/vigil/vigil.yaml").string()},
                &out),
            0)
      << out;
  std::cout << "package: " << deb << " (" << fs::file_size(deb) << " bytes)\n" << info;
}

}  // namespace
}  // namespace vigil::testing
