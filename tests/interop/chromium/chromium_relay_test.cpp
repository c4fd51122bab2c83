// Chromium (Debian package chromium, headless) with rendezvousd as its only ICE server: relay_test.html,
// served on loopback, connects two RTCPeerConnections (iceTransportPolicy 'relay') with REST credentials
// computed here from --auth-secret, passes data-channel messages both ways and checks with getStats() that
// the selected candidate pair is relay/relay. The page reports GET /result?status=... to the HTTP server
// that served it; this test reads that server's log.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>

#include <ctime>
#include <filesystem>
#include <regex>

#include "tests/integration/harness.h"
#include "tests/integration/rest_credentials.h"

namespace rdv::test {
namespace {

constexpr const char* kSecret = "chromium-rest-secret";

std::string urlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string urlDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// coturn's REST scheme, as an application server would compute it (Synapse, Jitsi, Nextcloud Talk).
std::pair<std::string, std::string> restCredentials(const std::string& secret, const std::string& id) {
  const std::string username = restUsername(id, 3600);
  return {username, restPassword(secret, username)};
}

class ChromiumRelay : public ::testing::TestWithParam<const char*> {};

TEST_P(ChromiumRelay, DataChannelBothWaysOverRelayOnly) {
  ASSERT_TRUE(onPath("chromium")) << "chromium is not installed (scripts/install-deps.sh --test installs it)";
  ASSERT_TRUE(onPath("python3"));
  const std::string transport = GetParam();
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0", "--auth-secret", kSecret});
  ASSERT_TRUE(node.started()) << node.log();
  const std::string turnPort = transport == "tcp" ? node.ready()["tcp"][0].get<std::string>() : node.udp();

  // The page, served by python's http.server from a directory of its own, on a port the kernel picks.
  const auto www = dir.path() / "www";
  std::filesystem::create_directory(www);
  std::filesystem::copy_file(RDV_CHROMIUM_PAGE, www / "relay_test.html");
  const std::string httpLog = dir.file("http.log");
  Process http({"python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", www.string()}, httpLog);
  std::smatch m;
  std::string log;
  ASSERT_TRUE(waitUntil(
      [&] {
        log = http.log();
        return std::regex_search(log, m, std::regex(R"(port ([0-9]+))"));
      },
      10s))
      << log;
  const std::string httpPort = m[1];

  auto [user, credential] = restCredentials(kSecret, "chromium");
  const std::string url = "http://127.0.0.1:" + httpPort + "/relay_test.html?turn=" +
                          urlEncode("turn:" + turnPort + "?transport=" + transport) + "&user=" + urlEncode(user) +
                          "&credential=" + urlEncode(credential);
  // setsid: the browser and its helpers form a process group of their own, killed together at the end.
  Process chromium({"setsid", "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-quic", "--disable-extensions", "--disable-dev-shm-usage",
                    "--mute-audio", "--user-data-dir=" + dir.file("profile"), "--enable-logging=stderr", "--v=0", url},
                   dir.file("chromium.log"));
  struct KillGroup {  // on every exit path: the whole group, politely first
    Process& p;
    ~KillGroup() {
      if (p.pid() <= 0) return;
      kill(-p.pid(), SIGTERM);
      p.stop(SIGTERM, 5s);
      kill(-p.pid(), SIGKILL);
    }
  } killGroup{chromium};
  const bool reported = waitUntil(
      [&] {
        log = http.log();
        return log.find("GET /result?") != std::string::npos || !chromium.running();
      },
      45s, 100ms);

  ASSERT_TRUE(reported) << "no result from the page within 45 s\nchromium:\n"
                        << chromium.log() << "\nnode:\n"
                        << node.log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(GET /result\?([^ ]*) HTTP)")))
      << "chromium exited without a result:\n" << chromium.log();
  const std::string query = m[1];
  const std::string status = std::regex_search(query, m, std::regex("status=([a-z]+)")) ? std::string(m[1]) : "";
  const std::string detail = std::regex_search(query, m, std::regex("detail=([^&]*)")) ? urlDecode(m[1]) : "";
  const std::string pageLog = std::regex_search(query, m, std::regex("log=([^&]*)")) ? urlDecode(m[1]) : "";
  EXPECT_EQ(status, "pass") << detail << "\npage log: " << pageLog << "\nnode:\n" << node.log();
  // Both ends of the selected pair are relayed candidates, allocated over the transport asked for.
  EXPECT_NE(detail.find(R"({"local":"relay","remote":"relay","localAddress":"127.0.0.1","relayProtocol":")" +
                        transport + "\""),
            std::string::npos)
      << detail;
  // The REST username's ID is the metered identity.
  EXPECT_NE(node.log().find("identity=chromium"), std::string::npos) << node.log();
  EXPECT_TRUE(node.process().running());
}

INSTANTIATE_TEST_SUITE_P(Transports, ChromiumRelay, ::testing::Values("udp", "tcp"),
                         [](const ::testing::TestParamInfo<const char*>& info) { return std::string(info.param); });

}  // namespace
}  // namespace rdv::test
