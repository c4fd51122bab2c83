// TLS on the HTTP listener (http-cert, http-key; issue 16): the real rendezvousd with a self-signed
// certificate made by openssl serves the API over HTTPS (rdv node-info/register/discover with --ca,
// and a raw request with CORS headers) and the signalling hub over wss (the upgrade answered 101 and
// the hub's challenge read through TLS); plain HTTP on that port gets no answer; half a pair or an
// unreadable file stops the start with the key's name; an unusable certificate or a busy port is a clear
// error (exit 1), not a crash.
#include <gtest/gtest.h>

#include <fstream>

#include "rendezvous/base/address.h"
#include "rendezvous/client/net.h"
#include "rendezvous/enr/enr_record.h"
#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

using Json = nlohmann::json;

// One request over TLS trusting `ca`; everything the node sends until `until` appears or it closes.
std::string overTls(const std::string& hostPort, const std::string& ca, const std::string& request,
                    const std::string& until = {}) {
  auto ep = Endpoint::parse(hostPort);
  EXPECT_TRUE(ep.has_value());
  if (!ep) return {};
  cli::Stream::TlsOptions tls{ca, "", false};
  auto s = cli::Stream::connect(*ep, std::chrono::seconds(10), &tls);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error());
  if (!s.ok()) return {};
  EXPECT_TRUE((*s)->write(asBytes(request)));
  std::string in;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    const Bytes b = (*s)->read(deadline);
    if (b.empty()) break;
    in.append(reinterpret_cast<const char*>(b.data()), b.size());
    if (!until.empty() && in.find(until) != std::string::npos) break;
  }
  return in;
}

TEST(HttpTls, ApiOverHttpsAndHubOverWss) {
  TempDir dir;
  const TestCertificate cert = makeTestCertificate(dir);
  ASSERT_TRUE(std::filesystem::exists(cert.cert)) << "openssl did not make a certificate";
  Node node({"--listen", "127.0.0.1:0", "--http-cert", cert.cert, "--http-key", cert.key, "--http-cors-origins",
             "https://app.example"});
  ASSERT_TRUE(node.started()) << node.log();
  const std::string url = "https://" + node.http();

  // rdv over https, trusting the test's certificate: the node's record advertises its API as https.
  auto info = run({binary("rdv"), "node-info", "--node", url, "--ca", cert.cert});
  ASSERT_EQ(info.exitCode, 0) << info.err;
  auto j = Json::parse(info.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << info.out;
  auto record = enr::EnrRecord::fromText(j.value("enr", ""));
  ASSERT_TRUE(record.ok()) << info.out;
  EXPECT_EQ(record->text("api").value_or(""), "https://" + node.http());
  const std::string key = dir.file("peer.key");
  ASSERT_EQ(run({binary("rdv"), "key", "new", "--out", key}).exitCode, 0);
  auto reg = run({binary("rdv"), "register", "--node", url, "--ca", cert.cert, "--namespace", "tls", "--key", key});
  ASSERT_EQ(reg.exitCode, 0) << reg.err;
  auto disc = run({binary("rdv"), "discover", "--node", url, "--ca", cert.cert, "--namespace", "tls"});
  ASSERT_EQ(disc.exitCode, 0) << disc.err;
  EXPECT_EQ(Json::parse(disc.out)["registrations"].size(), 1u) << disc.out;
  // Without trusting it, rdv refuses the certificate.
  EXPECT_NE(run({binary("rdv"), "node-info", "--node", url}).exitCode, 0);

  // A cross-origin request over TLS gets its CORS header.
  const std::string health = overTls(node.http(), cert.cert,
                                     "GET /healthz HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(health.rfind("HTTP/1.1 200", 0), 0u) << health;
  EXPECT_NE(health.find("access-control-allow-origin: https://app.example"), std::string::npos) << health;

  // wss: the upgrade on /v1/signal, then the hub's first frame (its challenge) through TLS.
  const std::string hub = overTls(node.http(), cert.cert,
                                  "GET /v1/signal HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                                  "challenge");
  EXPECT_EQ(hub.rfind("HTTP/1.1 101", 0), 0u) << hub;
  EXPECT_NE(hub.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << hub;  // RFC 6455's example accept
  EXPECT_NE(hub.find("challenge"), std::string::npos) << hub;

  // Plain HTTP to the TLS port: no HTTP answer.
  auto plain = run({"curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", "http://" + node.http() + "/healthz"});
  EXPECT_NE(plain.out, "200");
  EXPECT_TRUE(node.process().running());
}

TEST(HttpTls, IncompleteOrUnreadableCertificateIsAClearError) {
  TempDir dir;
  auto half = run({binary("rendezvousd"), "--http-cert", dir.file("cert.pem"), "--check-config"}, 20s);
  EXPECT_EQ(half.exitCode, 2);
  EXPECT_NE(half.err.find("'http-cert': needs both 'http-cert' and 'http-key'"), std::string::npos) << half.err;
  auto keyOnly = run({binary("rendezvousd"), "--http-key", dir.file("key.pem"), "--check-config"}, 20s);
  EXPECT_EQ(keyOnly.exitCode, 2);
  EXPECT_NE(keyOnly.err.find("'http-key'"), std::string::npos) << keyOnly.err;

  auto missing = run({binary("rendezvousd"), "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data-dir",
                      dir.file("data"), "--http-cert", dir.file("nope.pem"), "--http-key", dir.file("nope.key")},
                     20s);
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_FALSE(missing.timedOut);
  EXPECT_NE(missing.err.find("http-cert: cannot read"), std::string::npos) << missing.err;

  // Readable but not PEM: libwebsockets refuses it; the node says so and exits 2 like every start-up
  // failure (no crash).
  std::ofstream(dir.file("garbage.pem")) << "not a certificate\n";
  auto garbage = run({binary("rendezvousd"), "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data-dir",
                      dir.file("data2"), "--http-cert", dir.file("garbage.pem"), "--http-key", dir.file("garbage.pem")},
                     20s);
  EXPECT_EQ(garbage.exitCode, 2) << garbage.err;
  EXPECT_NE(garbage.err.find("cannot listen for HTTPS"), std::string::npos) << garbage.err;
}

// The HTTP port already taken: a clear error and exit 2, not a crash in the listener's teardown.
TEST(HttpTls, BusyHttpPortIsAClearError) {
  TempDir dir;
  Node first({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(first.started()) << first.log();
  auto busy = run({binary("rendezvousd"), "--listen", "127.0.0.1:0", "--http-listen", first.http(), "--data-dir",
                   dir.file("data")},
                  20s);
  EXPECT_EQ(busy.exitCode, 2) << busy.err;
  EXPECT_NE(busy.err.find("cannot listen for HTTP on " + first.http()), std::string::npos) << busy.err;
}

}  // namespace
}  // namespace rdv::test
