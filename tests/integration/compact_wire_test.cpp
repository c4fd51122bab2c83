// Issue 17 against the real rendezvousd on loopback: the compact wire (rdv send/inbox --compact, the
// rdv.cbor.1 subprotocol) mixed with JSON clients, online and stored offline, in both directions; the
// subprotocol negotiation itself; and Ethereum identities in the registry (GET
// /v1/registrations?address=, rdv discover --id 0x...), with a key imported from the published keystore.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <tuple>

#include "rendezvous/client/http_client.h"
#include "rendezvous/client/ws_client.h"
#include "signalling/hub/frames.h"
#include "signalling/hub/frames_cbor.h"
#include "tests/integration/harness.h"
#include "tests/integration/rdv_peer.h"

namespace rdv::test {
namespace {

using Json = nlohmann::json;

std::vector<std::string> compact(bool on) { return on ? std::vector<std::string>{"--compact"} : std::vector<std::string>{}; }

CommandResult send(const Node& node, const Peer& from, const Peer& to, const std::string& text, bool useCbor) {
  std::vector<std::string> argv = {binary("rdv"), "send", "--node", "http://" + node.http(), "--key", from.key, "--to", to.enr};
  for (auto& a : compact(useCbor)) argv.push_back(a);
  argv.push_back(text);
  return run(argv);
}

std::vector<Json> jsonLines(const std::string& out) {
  std::vector<Json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto j = Json::parse(line, nullptr, false);
    if (j.is_object()) lines.push_back(j);
  }
  return lines;
}

// One direction online: the recipient listens (rdv inbox, in its framing), the sender sends (in its).
void onlineDelivery(const Node& node, const TempDir& dir, const Peer& from, bool fromCbor, const Peer& to, bool toCbor,
                    const std::string& text) {
  std::vector<std::string> argv = {binary("rdv"), "inbox", "--node", "http://" + node.http(), "--key", to.key,
                                   "--count", "1", "--timeout", "20"};
  for (auto& a : compact(toCbor)) argv.push_back(a);
  Process inbox(argv, dir.file("inbox-" + text + ".log"));
  ASSERT_TRUE(waitUntil([&] { return inbox.log().find("listening as") != std::string::npos; }, 10s)) << inbox.log();
  auto sent = send(node, from, to, text, fromCbor);
  ASSERT_EQ(sent.exitCode, 0) << sent.err;
  auto ack = jsonLines(sent.out);
  ASSERT_EQ(ack.size(), 1u) << sent.out;
  EXPECT_EQ(ack[0]["status"], "delivered") << sent.out;
  ASSERT_TRUE(waitUntil([&] { return !inbox.running(); }, 20s));
  EXPECT_NE(inbox.log().find("\"body\":\"" + text + "\""), std::string::npos) << inbox.log();
}

TEST(CompactWire, JsonAndCborClientsExchangeOnline) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  Peer alice = makePeer(dir, "alice"), bob = makePeer(dir, "bob");
  onlineDelivery(node, dir, alice, false, bob, true, "json-to-cbor");
  onlineDelivery(node, dir, bob, true, alice, false, "cbor-to-json");
  onlineDelivery(node, dir, alice, true, bob, true, "cbor-to-cbor");
}

TEST(CompactWire, JsonAndCborClientsExchangeThroughTheMailbox) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  Peer alice = makePeer(dir, "alice"), bob = makePeer(dir, "bob");
  // alice (JSON) -> offline bob, read by bob with --compact; then bob (CBOR) -> offline alice, read as JSON.
  for (const auto& [from, fromCbor, to, toCbor, text] :
       {std::tuple{alice, false, bob, true, std::string("stored-json-to-cbor")},
        std::tuple{bob, true, alice, false, std::string("stored-cbor-to-json")}}) {
    for (int i = 0; i < 2; ++i) {
      auto sent = send(node, from, to, text + std::to_string(i), fromCbor);
      ASSERT_EQ(sent.exitCode, 0) << sent.err;
      EXPECT_EQ(jsonLines(sent.out).at(0)["status"], "stored") << sent.out;
    }
    std::vector<std::string> argv = {binary("rdv"), "inbox", "--node", "http://" + node.http(), "--key", to.key,
                                     "--once", "--timeout", "20"};
    for (auto& a : compact(toCbor)) argv.push_back(a);
    auto got = run(argv);
    ASSERT_EQ(got.exitCode, 0) << got.out << got.err;
    auto lines = jsonLines(got.out);
    ASSERT_EQ(lines.size(), 2u) << got.out;
    EXPECT_EQ(lines[0]["body"], text + "0");
    EXPECT_EQ(lines[1]["body"], text + "1");
    // Confirmed (in the recipient's framing): nothing waits any more.
    auto again = run(argv);
    EXPECT_EQ(again.exitCode, 0) << again.err;
    EXPECT_TRUE(jsonLines(again.out).empty()) << again.out;
  }
}

// Topics and presence with JSON and CBOR clients mixed (rdv publish/subscribe/presence --compact): every
// subscriber prints the same lines whatever its framing or the publisher's; a CBOR watcher sees a CBOR
// peer that opted in come online.
TEST(CompactWire, TopicsAndPresenceWithJsonAndCborClientsMixed) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  Peer pubJson = makePeer(dir, "pubjson"), pubCbor = makePeer(dir, "pubcbor");
  Peer subJson = makePeer(dir, "subjson"), subCbor = makePeer(dir, "subcbor");
  const std::string url = "http://" + node.http();
  auto subscribe = [&](const Peer& p, bool cbor, const std::string& name) {
    std::vector<std::string> argv = {binary("rdv"), "subscribe", "--node", url, "--key", p.key, "--topic", "mixed",
                                     "--count", "2", "--timeout", "30"};
    for (auto& a : compact(cbor)) argv.push_back(a);
    return std::make_unique<Process>(argv, dir.file(name + ".log"));
  };
  auto a = subscribe(subJson, false, "sub-json");
  auto b = subscribe(subCbor, true, "sub-cbor");
  for (auto* p : {a.get(), b.get()})
    ASSERT_TRUE(waitUntil([&] { return p->log().find("subscribed to mixed") != std::string::npos; }, 20s)) << p->log();
  for (const auto& [from, cbor, text] : {std::tuple{pubJson, false, std::string("from-json")},
                                          std::tuple{pubCbor, true, std::string("from-cbor")}}) {
    std::vector<std::string> argv = {binary("rdv"), "publish", "--node", url, "--key", from.key, "--topic", "mixed"};
    for (auto& x : compact(cbor)) argv.push_back(x);
    argv.push_back(text);
    auto sent = run(argv);
    ASSERT_EQ(sent.exitCode, 0) << sent.err;
    EXPECT_EQ(jsonLines(sent.out).at(0)["subscribers"], 2) << sent.out;
  }
  for (auto* p : {a.get(), b.get()}) ASSERT_TRUE(waitUntil([&] { return !p->running(); }, 30s)) << p->log();
  auto linesA = jsonLines(a->log()), linesB = jsonLines(b->log());
  ASSERT_EQ(linesA.size(), 2u) << a->log();
  EXPECT_EQ(linesA, linesB);  // the same from, topic, seq, ts and body, whatever the framing
  EXPECT_EQ(linesA[0]["body"], "from-json");
  EXPECT_EQ(linesA[1]["body"], "from-cbor");

  // Presence on a CBOR connection: the watched peer opts in over CBOR too.
  Peer watcher = makePeer(dir, "watcher"), peer = makePeer(dir, "peer");
  Process watch({binary("rdv"), "presence", "--compact", "--node", url, "--key", watcher.key, "--watch", peer.enr,
                 "--count", "2", "--timeout", "30"},
                dir.file("watch.log"));
  ASSERT_TRUE(waitUntil([&] { return jsonLines(watch.log()).size() >= 1; }, 20s)) << watch.log();
  Process inbox({binary("rdv"), "inbox", "--presence", "--compact", "--node", url, "--key", peer.key, "--timeout", "30"},
                dir.file("peer.log"));
  ASSERT_TRUE(waitUntil([&] { return !watch.running(); }, 20s)) << watch.log();
  auto events = jsonLines(watch.log());
  ASSERT_EQ(events.size(), 2u) << watch.log();
  EXPECT_EQ(events[0]["event"], "offline");
  EXPECT_EQ(events[1]["event"], "online");
}

TEST(CompactWire, SubprotocolNegotiation) {
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  const std::string url = "http://" + node.http();
  const auto deadline = [] { return std::chrono::steady_clock::now() + 10s; };

  // rdv.cbor.1: the challenge arrives as a CBOR binary message.
  auto cbor = cli::WebSocketClient::connect(url, "/v1/signal", 10s, "rdv.cbor.1");
  ASSERT_TRUE(cbor) << cbor.error();
  auto first = (*cbor)->receive(deadline());
  ASSERT_TRUE(first);
  auto challenge = signalling::decodeFrameCbor(*first);
  ASSERT_TRUE(challenge) << "0x" << toHex(asBytes(*first));
  EXPECT_TRUE(std::holds_alternative<signalling::ChallengeFrame>(*challenge));
  std::printf("challenge frame: %zu bytes in CBOR\n", first->size());
  // JSON text on a CBOR connection is a bad frame, answered in CBOR.
  (*cbor)->sendText(R"({"type":"received","from":"00","seq":1})");
  auto answer = (*cbor)->receive(deadline());
  ASSERT_TRUE(answer);
  auto error = signalling::decodeFrameCbor(*answer);
  ASSERT_TRUE(error);
  ASSERT_TRUE(std::holds_alternative<signalling::ErrorFrame>(*error));
  EXPECT_EQ(std::get<signalling::ErrorFrame>(*error).code, "bad-frame");

  // rdv.json.1 and no subprotocol: JSON text.
  for (const char* sub : {"rdv.json.1", ""}) {
    auto json = cli::WebSocketClient::connect(url, "/v1/signal", 10s, sub);
    ASSERT_TRUE(json) << sub << ": " << json.error();
    auto text = (*json)->receive(deadline());
    ASSERT_TRUE(text) << sub;
    auto frame = signalling::decodeFrame(*text);
    ASSERT_TRUE(frame) << *text;
    EXPECT_TRUE(std::holds_alternative<signalling::ChallengeFrame>(*frame));
    std::printf("challenge frame: %zu bytes in JSON\n", text->size());
  }

  // An unknown subprotocol is refused at the upgrade, with a message naming it.
  auto unknown = cli::WebSocketClient::connect(url, "/v1/signal", 10s, "rdv.cbor.9");
  ASSERT_FALSE(unknown);
  EXPECT_FALSE(unknown.error().empty());
}

// Presence by namespace and by Ethereum address (issue 17): a watcher of the namespace "raiden/transport"
// (CBOR) and a watcher of the peer's 0x address (JSON) both see the registered, opted-in peer come online
// and go offline; an address nobody registered is refused.
TEST(EthereumIdentities, PresenceByNamespaceAndByAddress) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  const std::string url = "http://" + node.http();
  Peer peer = makePeer(dir, "peer"), watcher = makePeer(dir, "watcher"), other = makePeer(dir, "other");
  ASSERT_EQ(run({binary("rdv"), "register", "--node", url, "--namespace", "raiden/transport", "--key", peer.key, "--ip",
                 "192.0.2.7", "--udp", "4000"})
                .exitCode,
            0);
  auto shown = run({binary("rdv"), "key", "address", "--key", peer.key});
  ASSERT_EQ(shown.exitCode, 0) << shown.err;
  const std::string address = shown.out.substr(0, 42);

  Process byNamespace({binary("rdv"), "presence", "--compact", "--node", url, "--key", watcher.key, "--namespace",
                       "raiden/transport", "--count", "2", "--timeout", "30"},
                      dir.file("ns.log"));
  Process byAddress({binary("rdv"), "presence", "--node", url, "--key", other.key, "--watch", address, "--count", "3",
                     "--timeout", "30"},
                    dir.file("addr.log"));
  ASSERT_TRUE(waitUntil([&] { return byNamespace.log().find("watching") != std::string::npos; }, 20s)) << byNamespace.log();
  ASSERT_TRUE(waitUntil([&] { return jsonLines(byAddress.log()).size() >= 1; }, 20s)) << byAddress.log();
  {
    Process inbox({binary("rdv"), "inbox", "--presence", "--node", url, "--key", peer.key, "--timeout", "30"},
                  dir.file("peer.log"));
    ASSERT_TRUE(waitUntil([&] { return jsonLines(byNamespace.log()).size() >= 1; }, 20s)) << byNamespace.log();
    ASSERT_TRUE(waitUntil([&] { return jsonLines(byAddress.log()).size() >= 2; }, 20s)) << byAddress.log();
    ASSERT_TRUE(inbox.stop(SIGKILL).has_value());
  }
  ASSERT_TRUE(waitUntil([&] { return !byNamespace.running() && !byAddress.running(); }, 20s))
      << byNamespace.log() << byAddress.log();
  auto ns = jsonLines(byNamespace.log()), addr = jsonLines(byAddress.log());
  ASSERT_EQ(ns.size(), 2u) << byNamespace.log();
  EXPECT_EQ(ns[0]["event"], "online");
  EXPECT_EQ(ns[1]["event"], "offline");
  ASSERT_EQ(addr.size(), 3u) << byAddress.log();
  EXPECT_EQ(addr[0]["event"], "offline");  // at once: not online yet
  EXPECT_EQ(addr[1]["event"], "online");
  EXPECT_EQ(addr[2]["event"], "offline");
  EXPECT_EQ(ns[0]["node_id"], addr[1]["node_id"]);  // the peer, found through its namespace and its address

  auto unknown = run({binary("rdv"), "presence", "--node", url, "--key", other.key, "--watch",
                      "0x0000000000000000000000000000000000000001", "--count", "1", "--timeout", "5"});
  EXPECT_EQ(unknown.exitCode, 1);
  EXPECT_NE(unknown.err.find("no record registered"), std::string::npos) << unknown.err;
}

TEST(EthereumIdentities, RegistryAnswersByAddressAndDiscoverTakesIt) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  const std::string url = "http://" + node.http();
  const std::string keystore = std::string(RDV_SOURCE_DIR_FOR_TESTS) + "/tests/vectors/ethereum/keystore_pbkdf2.json";
  {
    std::ofstream(dir.file("pw")) << "testpassword\n";
  }
  auto imported = run({binary("rdv"), "key", "import", "--keystore", keystore, "--password-file", dir.file("pw"), "--out",
                       dir.file("eth.key")});
  ASSERT_EQ(imported.exitCode, 0) << imported.err;
  const std::string nodeId = imported.out.substr(0, 64);
  const std::string address = "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b";
  auto shown = run({binary("rdv"), "key", "address", "--key", dir.file("eth.key")});
  ASSERT_EQ(shown.out, address + "\n");

  for (const char* ns : {"raiden/transport", "raiden/monitoring"}) {
    auto reg = run({binary("rdv"), "register", "--node", url, "--namespace", ns, "--key", dir.file("eth.key"), "--ip",
                    "192.0.2.7", "--udp", "4000"});
    ASSERT_EQ(reg.exitCode, 0) << reg.err;
  }
  Peer other = makePeer(dir, "other");
  ASSERT_EQ(run({binary("rdv"), "register", "--node", url, "--namespace", "raiden/transport", "--key", other.key, "--ip",
                 "192.0.2.8", "--udp", "4000"})
                .exitCode,
            0);

  // rdv discover --id with the checksummed address: both namespaces, and only this identity.
  auto found = run({binary("rdv"), "discover", "--node", url, "--id", address});
  ASSERT_EQ(found.exitCode, 0) << found.err;
  auto page = Json::parse(found.out);
  ASSERT_EQ(page["registrations"].size(), 2u) << found.out;
  for (const auto& r : page["registrations"]) {
    EXPECT_EQ(r["node_id"], nodeId);
    EXPECT_EQ(r["address"], address);
  }
  EXPECT_EQ(page["registrations"][0]["namespace"], "raiden/monitoring");  // namespace order
  // Limited to a namespace; by node id; lower-case address over raw HTTP.
  auto one = run({binary("rdv"), "discover", "--node", url, "--id", address, "--namespace", "raiden/transport"});
  ASSERT_EQ(one.exitCode, 0) << one.err;
  EXPECT_EQ(Json::parse(one.out)["registrations"].size(), 1u) << one.out;
  auto byId = run({binary("rdv"), "discover", "--node", url, "--id", nodeId});
  ASSERT_EQ(byId.exitCode, 0) << byId.err;
  EXPECT_EQ(Json::parse(byId.out)["registrations"].size(), 2u) << byId.out;
  auto httpUrl = cli::parseHttpUrl(url);
  ASSERT_TRUE(httpUrl);
  auto lower = cli::httpRequest(*httpUrl, {"GET", "/v1/registrations?address=0x008aeeda4d805471df9b2a5b0f38a0c3bcba786b"});
  ASSERT_TRUE(lower) << lower.error();
  EXPECT_EQ(lower->status, 200);
  EXPECT_EQ(Json::parse(lower->body)["registrations"].size(), 2u) << lower->body;
  // A wrong checksum is a 400 naming the address; an unknown address an empty list.
  auto typo = cli::httpRequest(*httpUrl, {"GET", "/v1/registrations?address=0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786B"});
  ASSERT_TRUE(typo);
  EXPECT_EQ(typo->status, 400);
  EXPECT_EQ(Json::parse(typo->body)["error"], "invalid_address") << typo->body;
  auto rdvTypo = run({binary("rdv"), "discover", "--node", url, "--id", "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786B"});
  EXPECT_EQ(rdvTypo.exitCode, 2);
  EXPECT_NE(rdvTypo.err.find("EIP-55"), std::string::npos) << rdvTypo.err;
  auto nobody = cli::httpRequest(*httpUrl, {"GET", "/v1/registrations?address=0x" + std::string(40, '1')});
  ASSERT_TRUE(nobody);
  EXPECT_EQ(nobody->status, 200);
  EXPECT_EQ(Json::parse(nobody->body)["registrations"].size(), 0u);
  // Unregistered everywhere: the address is forgotten.
  for (const char* ns : {"raiden/transport", "raiden/monitoring"})
    ASSERT_EQ(run({binary("rdv"), "unregister", "--node", url, "--namespace", ns, "--key", dir.file("eth.key")}).exitCode, 0);
  auto gone = run({binary("rdv"), "discover", "--node", url, "--id", address});
  EXPECT_EQ(Json::parse(gone.out)["registrations"].size(), 0u) << gone.out;
}

}  // namespace
}  // namespace rdv::test
