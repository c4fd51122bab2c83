// SIGHUP reloads (issue 18) against the real rendezvousd: auth secrets, peer lists and the log level
// change under a live allocation that keeps relaying; a retired secret still checks the credentials it
// issued; a broken file changes nothing; renewed certificates are served to new TLS connections (TURN
// over TLS and the HTTPS API) while an open TLS connection goes on.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "rendezvous/client/net.h"
#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

constexpr const char* kOldSecret = "reload-test-secret-one-0001";
constexpr const char* kNewSecret = "reload-test-secret-two-0002";

Endpoint loopback(uint16_t port) { return Endpoint(*IpAddress::parse("127.0.0.1"), port); }

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
}

// Sends SIGHUP and waits for the node's answer to it: the n-th config-reloaded or config-reload-failed.
bool reloadAndWait(Node& node, const std::string& event, size_t nth) {
  kill(node.process().pid(), SIGHUP);
  return waitUntil([&] { return events(node.log(), event).size() >= nth; }, std::chrono::seconds(10));
}

// A payload sent on the channel arrives at the peer.
bool relays(TurnTestClient& client, UdpSocket& peer, const std::string& text) {
  const Bytes payload(text.begin(), text.end());
  if (!client.sendChannelData(0x4000, payload)) return false;
  auto got = peer.receive(std::chrono::seconds(3));
  return got && *got == payload;
}

std::string config(const std::string& secret, const std::string& extra) {
  return R"({"listen": ["127.0.0.1:0"], "auth-secret": [")" + secret +
         R"("], "allow-peer": ["127.0.0.0/8"], "log-format": "json")" + extra + "}";
}

TEST(Reload, SecretsPeerListAndLogLevelChangeUnderALiveAllocation) {
  TempDir dir;
  const std::string file = dir.file("node.json");
  writeFile(file, config(kOldSecret, R"(, "log-level": "info")"));
  Node node({"--config", file});
  ASSERT_TRUE(node.started()) << node.log();
  const Endpoint server = loopback(node.udpPort());
  UdpSocket peer;
  UdpSocket deniedPeer(0x7F000002);  // 127.0.0.2: denied by the reload below
  ASSERT_TRUE(peer.ok() && deniedPeer.ok());
  const std::string user = restUsername("live-id", 3600);
  TurnTestClient live(server, user, restPassword(kOldSecret, user));
  ASSERT_TRUE(live.allocate().ok) << node.log();
  ASSERT_TRUE(live.bindChannel(0x4000, peer.local()).ok);
  ASSERT_TRUE(relays(live, peer, "before the reload"));
  ASSERT_EQ(events(node.log(), "allocation-started").size(), 1u);

  // Rotation: the new secret only; 127.0.0.2 denied; warnings and errors only.
  writeFile(file, config(kNewSecret, R"(, "log-level": "warn", "deny-peer": ["127.0.0.2/32"])"));
  ASSERT_TRUE(reloadAndWait(node, "config-reloaded", 1)) << node.log();
  const auto reloaded = events(node.log(), "config-reloaded").front();
  for (const char* key : {"auth-secret", "deny-peer", "log-level"})
    EXPECT_NE(std::find(reloaded["changed"].begin(), reloaded["changed"].end(), key), reloaded["changed"].end())
        << key << " " << reloaded.dump();
  EXPECT_EQ(reloaded.value("retired_secrets", 0), 1);
  EXPECT_TRUE(events(node.log(), "config-reload-needs-restart").empty()) << node.log();

  // The live allocation goes on relaying and refreshes with the credential the old secret issued.
  EXPECT_TRUE(relays(live, peer, "after the reload")) << node.log();
  EXPECT_TRUE(live.refresh(600).ok) << node.log();
  // The new peer list applies to it: 127.0.0.2 is refused (403), 127.0.0.1 still allowed.
  EXPECT_EQ(live.permit(deniedPeer.local()).error, 403);
  EXPECT_TRUE(live.permit(peer.local()).ok);
  // The retired secret checks only what it could have issued before it was retired: a credential
  // expiring beyond the grace (24 h) after the reload is refused; the new secret works.
  const std::string late = restUsername("late-id", 3 * 86400);
  TurnTestClient forged(server, late, restPassword(kOldSecret, late));
  EXPECT_EQ(forged.allocate().error, 401);
  const std::string fresh = restUsername("fresh-id", 3600);
  TurnTestClient rotated(server, fresh, restPassword(kNewSecret, fresh));
  EXPECT_TRUE(rotated.allocate().ok) << node.log();
  // log-level warn: the new allocation's info line is not written.
  EXPECT_EQ(events(node.log(), "allocation-started").size(), 1u) << node.log();
  EXPECT_TRUE(events(node.log(), "allocation-ended").empty()) << node.log();
  // Back to info: the lines come back.
  writeFile(file, config(kNewSecret, R"(, "log-level": "info", "deny-peer": ["127.0.0.2/32"])"));
  ASSERT_TRUE(reloadAndWait(node, "config-reloaded", 2)) << node.log();  // written at the more verbose level
  const std::string again = restUsername("again-id", 3600);
  TurnTestClient third(server, again, restPassword(kNewSecret, again));
  ASSERT_TRUE(third.allocate().ok);
  EXPECT_TRUE(waitUntil([&] { return events(node.log(), "allocation-started").size() == 2; }, std::chrono::seconds(3)))
      << node.log();
  EXPECT_TRUE(relays(live, peer, "still relaying"));
}

// coturn's turnutils_uclient relays through a SIGHUP that rotates the secret it was issued with and
// changes the peer list and log level: its session completes with nothing lost.
TEST(Reload, CoturnClientSessionRunsThroughAReload) {
  TempDir dir;
  const std::string file = dir.file("node.json");
  writeFile(file, config(kOldSecret, R"(, "log-level": "info")"));
  Node node({"--config", file});
  ASSERT_TRUE(node.started()) << node.log();
  // 60 messages, 100 ms apart (6 s), client to client through the relay, REST credentials from the old secret.
  Process uclient({"turnutils_uclient", "-y", "-c", "-n", "60", "-m", "1", "-l", "120", "-z", "100", "-W", kOldSecret,
                   "-u", "uclient-id", "-p", std::to_string(node.udpPort()), "127.0.0.1"},
                  dir.file("uclient.log"));
  ASSERT_TRUE(waitUntil([&] { return events(node.log(), "allocation-started").size() >= 2; }, std::chrono::seconds(10)))
      << node.log() << uclient.log();
  writeFile(file, config(kNewSecret, R"(, "log-level": "warn", "deny-peer": ["192.0.2.0/24"])"));
  ASSERT_TRUE(reloadAndWait(node, "config-reloaded", 1)) << node.log();
  ASSERT_TRUE(uclient.running()) << "the session must span the reload: " << uclient.log();
  ASSERT_TRUE(waitUntil([&] { return !uclient.running(); }, std::chrono::seconds(30))) << uclient.log();
  const auto status = uclient.stop(SIGTERM);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << uclient.log();
  EXPECT_NE(uclient.log().find("Total lost packets 0 "), std::string::npos) << uclient.log();
}

TEST(Reload, ABrokenFileKeepsTheRunningSettings) {
  TempDir dir;
  const std::string file = dir.file("node.json");
  writeFile(file, config(kOldSecret, ""));
  Node node({"--config", file});
  ASSERT_TRUE(node.started()) << node.log();
  const Endpoint server = loopback(node.udpPort());
  UdpSocket peer;
  const std::string user = restUsername("live-id", 3600);
  TurnTestClient live(server, user, restPassword(kOldSecret, user));
  ASSERT_TRUE(live.allocate().ok) << node.log();
  ASSERT_TRUE(live.bindChannel(0x4000, peer.local()).ok);

  const std::vector<std::pair<std::string, std::string>> broken = {
      {R"({"listen": ["127.0.0.1:0"], "auth-secret": [)", "not valid JSON"},
      {config(kNewSecret, R"(, "deny-peer": ["not-a-cidr"])"), "deny-peer"},
      {config("short", ""), "auth-secret"},
      {config(kNewSecret, R"(, "log-level": "loud")"), "log-level"},
  };
  size_t failures = 0;
  for (const auto& [text, named] : broken) {
    writeFile(file, text);
    ASSERT_TRUE(reloadAndWait(node, "config-reload-failed", ++failures)) << node.log();
    const auto failed = events(node.log(), "config-reload-failed").back();
    EXPECT_NE(failed.value("reason", "").find(named), std::string::npos) << failed.dump();
    // Nothing changed: the allocation relays, the old secret still issues, the new one does not.
    EXPECT_TRUE(relays(live, peer, "kept " + named)) << node.log();
    const std::string next = restUsername("next-" + std::to_string(failures), 3 * 86400);
    TurnTestClient withOld(server, next, restPassword(kOldSecret, next));
    EXPECT_TRUE(withOld.allocate().ok) << named;
    TurnTestClient withNew(server, next, restPassword(kNewSecret, next));
    EXPECT_EQ(withNew.allocate().error, 401) << named;
  }
  EXPECT_TRUE(events(node.log(), "config-reloaded").empty()) << node.log();
  EXPECT_TRUE(events(node.log(), "allocation-ended").empty()) << node.log();
}

// A TLS connection to `to` that trusts only `ca`.
Result<std::unique_ptr<cli::Stream>, std::string> connectTrusting(const std::string& to, const std::string& ca) {
  auto ep = Endpoint::parse(to);
  if (!ep) return unexpected(std::string("bad endpoint ") + to);
  cli::Stream::TlsOptions tls{ca, "", false};
  return cli::Stream::connect(*ep, std::chrono::seconds(10), &tls);
}

// A STUN Binding request over an open stream gets its success response (RFC 8489 §6.3.1 over TCP/TLS).
bool bindingAnswered(cli::Stream& s) {
  static uint8_t counter = 0;
  const Bytes request = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ++counter};
  if (!s.write(request)) {
    ADD_FAILURE() << "write failed";
    return false;
  }
  const Bytes answer = s.read(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  if (answer.size() < 20 || answer[0] != 0x01 || answer[1] != 0x01) ADD_FAILURE() << "answer of " << answer.size() << " bytes";
  return answer.size() >= 20 && answer[0] == 0x01 && answer[1] == 0x01;
}

TEST(Reload, RenewedCertificatesAreServedToNewConnections) {
  TempDir dir, first, second;
  const TestCertificate old = makeTestCertificate(first);
  const TestCertificate renewed = makeTestCertificate(second);
  const std::string cert = dir.file("live-cert.pem"), key = dir.file("live-key.pem");
  std::filesystem::copy_file(old.cert, cert);
  std::filesystem::copy_file(old.key, key);
  const std::string file = dir.file("node.json");
  writeFile(file, R"({"listen": ["127.0.0.1:0"], "tls-listen": ["127.0.0.1:0"], "cert": ")" + cert +
                      R"(", "key": ")" + key + R"(", "http-listen": "127.0.0.1:0", "http-cert": ")" + cert +
                      R"(", "http-key": ")" + key + R"(", "auth-secret": [")" + kOldSecret +
                      R"("], "log-format": "json"})");
  Node node({"--config", file});
  ASSERT_TRUE(node.started()) << node.log();
  auto openTurn = connectTrusting(node.tls(), old.cert);
  ASSERT_TRUE(openTurn) << openTurn.error();
  ASSERT_TRUE(bindingAnswered(**openTurn));
  ASSERT_TRUE(connectTrusting(node.http(), old.cert)) << node.log();

  // certbot-style renewal: new files at the same paths, then SIGHUP.
  std::filesystem::copy_file(renewed.cert, cert, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(renewed.key, key, std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(reloadAndWait(node, "config-reloaded", 1)) << node.log();
  EXPECT_TRUE(events(node.log(), "config-reloaded").front().value("tls_reloaded", false));
  // The open TLS connection goes on with its session, also after the refused handshakes below (they
  // once left an error in this thread's OpenSSL queue that made the open stream's next read fail:
  // tests/abuse/turn_tls_stall_test.cpp).
  EXPECT_TRUE(bindingAnswered(**openTurn)) << "the open TLS connection survives the reload" << node.log();
  for (const std::string& listener : {node.tls(), node.http()}) {
    // The HTTP listener applies it on its own thread: wait for the first connection that shows it.
    EXPECT_TRUE(waitUntil([&] { return bool(connectTrusting(listener, renewed.cert)); }, std::chrono::seconds(5)))
        << listener << node.log();
    EXPECT_FALSE(connectTrusting(listener, old.cert)) << listener;
  }
  EXPECT_TRUE(bindingAnswered(**openTurn)) << "the open TLS connection survives refused handshakes" << node.log();

  // A key that does not match the certificate: refused, the renewed pair stays.
  std::filesystem::copy_file(old.key, key, std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(reloadAndWait(node, "config-reload-failed", 1)) << node.log();
  EXPECT_NE(events(node.log(), "config-reload-failed").front().value("reason", "").find("cert"), std::string::npos);
  EXPECT_TRUE(connectTrusting(node.tls(), renewed.cert));
  EXPECT_TRUE(connectTrusting(node.http(), renewed.cert));
}

}  // namespace
}  // namespace rdv::test
