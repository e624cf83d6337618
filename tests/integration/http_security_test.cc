// HTTPS and per-client rate limits of the real vigild: certificates made by the test with the
// openssl command line, calls made with curl --cacert (and a client certificate when required).
#include <gtest/gtest.h>

#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

bool openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  const int rc = run(argv, &out);
  if (rc != 0) ADD_FAILURE() << "openssl failed: " << out;
  return rc == 0;
}

// A CA, and a certificate signed by it for `cn` (with 127.0.0.1 as a subject alternative name).
struct Pki {
  explicit Pki(const TempDir& dir) : dir_(dir) {
    ok = openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=vigil test CA",
                  "-keyout", file("ca.key"), "-out", file("ca.pem")});
  }
  bool issue(const std::string& name, const std::string& cn) {
    writeFile(file(name + ".ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    return openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn, "-keyout", file(name + ".key"), "-out",
                    file(name + ".csr")}) &&
           openssl({"x509", "-req", "-in", file(name + ".csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
                    "-CAcreateserial", "-days", "2", "-extfile", file(name + ".ext"), "-out", file(name + ".pem")});
  }
  std::string file(const std::string& name) const { return dir_.file(name); }
  const TempDir& dir_;
  bool ok = false;
};

// Runs curl; returns the HTTP status it printed (0 when the call failed, with curl's output).
int curlStatus(std::vector<std::string> extra, const std::string& url, std::string* output = nullptr) {
  std::vector<std::string> argv{"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(url);
  std::string out;
  run(argv, &out);
  if (output) *output = out;
  try {
    return std::stoi(out.substr(out.size() >= 3 ? out.size() - 3 : 0));
  } catch (...) {
    return 0;
  }
}

// vigild with http.tls; its readiness is polled over HTTPS (the fixture's start() speaks HTTP).
std::unique_ptr<Process> startTls(VigildInstance& vigild, const std::string& ca, std::vector<std::string> client) {
  auto process = std::make_unique<Process>(std::vector<std::string>{vigildPath(), "--config", vigild.configPath()},
                                           vigild.dir().file("vigild-tls.log"));
  std::string https = vigild.url("/readyz");
  https.replace(0, 4, "https");
  std::vector<std::string> args{"--cacert", ca};
  args.insert(args.end(), client.begin(), client.end());
  if (!waitFor([&] { return !process->running() || curlStatus(args, https) == 200; }) || !process->running()) {
    ADD_FAILURE() << readFile(vigild.dir().file("vigild-tls.log"));
  }
  return process;
}

TEST(HttpSecurity, ServesHttpsWithTheConfiguredCertificate) {
  TempDir certs;
  Pki pki(certs);
  ASSERT_TRUE(pki.ok && pki.issue("server", "localhost"));
  VigildInstance vigild("", "  tls: {cert: " + pki.file("server.pem") + ", key: " + pki.file("server.key") + "}\n");
  auto process = startTls(vigild, pki.file("ca.pem"), {});
  std::string https = vigild.url("/api/v1/incidents");
  https.replace(0, 4, "https");
  EXPECT_EQ(curlStatus({"--cacert", pki.file("ca.pem")}, https), 200);
  std::string out;
  EXPECT_EQ(curlStatus({}, https, &out), 0) << "a client without our CA must refuse the certificate: " << out;
  EXPECT_EQ(curlStatus({}, vigild.url("/api/v1/incidents"), &out), 0) << "plain HTTP is not served: " << out;
  EXPECT_EQ(process->stop(SIGTERM), 0) << readFile(vigild.dir().file("vigild-tls.log"));
}

TEST(HttpSecurity, RequiresAClientCertificateWhenClientCaIsSet) {
  TempDir certs;
  Pki pki(certs);
  ASSERT_TRUE(pki.ok && pki.issue("server", "localhost") && pki.issue("client", "noc-console"));
  VigildInstance vigild("", "  tls: {cert: " + pki.file("server.pem") + ", key: " + pki.file("server.key") +
                                ", client_ca: " + pki.file("ca.pem") + "}\n");
  const std::vector<std::string> client{"--cert", pki.file("client.pem"), "--key", pki.file("client.key")};
  auto process = startTls(vigild, pki.file("ca.pem"), client);
  std::string https = vigild.url("/api/v1/incidents");
  https.replace(0, 4, "https");
  std::vector<std::string> with_cert{"--cacert", pki.file("ca.pem")};
  with_cert.insert(with_cert.end(), client.begin(), client.end());
  EXPECT_EQ(curlStatus(with_cert, https), 200);
  std::string out;
  EXPECT_EQ(curlStatus({"--cacert", pki.file("ca.pem")}, https, &out), 0) << "no client certificate: " << out;
}

TEST(HttpSecurity, BadTlsFilesAreAConfigError) {
  VigildInstance vigild("", "  tls: {cert: /nonexistent/server.pem, key: key.pem}\n");
  std::string out;
  EXPECT_EQ(run({vigildPath(), "--check-config", "--config", vigild.configPath()}, &out), 1) << out;
  EXPECT_NE(out.find("no such file: /nonexistent/server.pem"), std::string::npos) << out;
}

TEST(HttpSecurity, RateLimitAnswers429WithRetryAfter) {
  VigildInstance vigild("", "  rate_limit: {requests_per_second: 1, burst: 3}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();  // /readyz is not limited
  for (int i = 0; i < 3; ++i) EXPECT_EQ(httpGet(vigild.url("/api/v1/incidents")).status, 200) << "within the burst";
  // Then about one request a second: a quick series runs out of tokens.
  std::string headers;
  bool limited = false;
  for (int i = 0; i < 30 && !limited; ++i) {
    run({"curl", "-sS", "-D", "-", vigild.url("/api/v1/incidents?limit=1")}, &headers);
    limited = headers.rfind("HTTP/1.1 429", 0) == 0;
  }
  ASSERT_TRUE(limited) << headers;
  EXPECT_NE(headers.find("Retry-After: 1"), std::string::npos) << headers;
  EXPECT_NE(headers.find(R"("code":429)"), std::string::npos) << headers;
  // Another client address has its own bucket (127.0.0.2 is loopback too).
  std::string other = vigild.url("/api/v1/incidents");
  EXPECT_EQ(curlStatus({"--interface", "127.0.0.2"}, other), 200);
  // Health, readiness and metrics stay reachable for monitoring while a client is limited.
  EXPECT_EQ(httpGet(vigild.url("/metrics")).status, 200);
  EXPECT_EQ(httpGet(vigild.url("/healthz")).status, 200);
}

}  // namespace
}  // namespace vigil::testing
