// libnice as a TURN client of the real rendezvousd: two NiceAgents in one process (one GLib main loop),
// force-relay, so their only candidates are relayed addresses allocated on the node; candidates are
// exchanged in-process, ICE connectivity checks run through the relay, and data flows both ways.
#include <agent.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <ctime>
#include <memory>
#include <string>

#include "tests/integration/harness.h"
#include "tests/integration/rest_credentials.h"

namespace rdv::test {
namespace {

constexpr guint kComponent = 1;
constexpr int kMessagesWanted = 5;  // per direction
constexpr guint kDeadlineMs = 20'000;

// coturn's REST scheme, as an application server would compute it (Synapse, Jitsi, Nextcloud Talk).
std::pair<std::string, std::string> restCredentials(const std::string& secret, const std::string& id) {
  const std::string username = restUsername(id, 3600);
  return {username, restPassword(secret, username)};
}

struct Peer;

struct Session {
  GMainContext* context = nullptr;
  GMainLoop* loop = nullptr;
  std::string failure;  // set once, ends the loop
  bool timedOut = false;
  Peer* peers[2] = {nullptr, nullptr};
  bool candidatesExchanged = false;

  void fail(const std::string& why) {
    if (failure.empty()) failure = why;
    g_main_loop_quit(loop);
  }
  void checkDone();
};

struct Peer {
  Session* session = nullptr;
  const char* name = "";
  NiceAgent* agent = nullptr;
  guint stream = 0;
  bool gathered = false;
  bool ready = false;
  bool failed = false;
  int received = 0;
  int sent = 0;
  std::string lastMessage;

  Peer* other() const { return session->peers[0] == this ? session->peers[1] : session->peers[0]; }
};

void exchangeCandidates(Session& s) {
  for (Peer* from : s.peers) {
    Peer* to = from->other();
    gchar* ufrag = nullptr;
    gchar* pwd = nullptr;
    if (!nice_agent_get_local_credentials(from->agent, from->stream, &ufrag, &pwd))
      return s.fail(std::string(from->name) + ": no local credentials");
    nice_agent_set_remote_credentials(to->agent, to->stream, ufrag, pwd);
    g_free(ufrag);
    g_free(pwd);
    GSList* cands = nice_agent_get_local_candidates(from->agent, from->stream, kComponent);
    int count = 0;
    for (GSList* i = cands; i; i = i->next) {
      auto* c = static_cast<NiceCandidate*>(i->data);
      ++count;
      if (c->type != NICE_CANDIDATE_TYPE_RELAYED) {
        gchar addr[NICE_ADDRESS_STRING_LEN];
        nice_address_to_string(&c->addr, addr);
        s.fail(std::string(from->name) + ": force-relay, yet a non-relayed local candidate " + addr);
      }
    }
    if (count == 0) s.fail(std::string(from->name) + ": no relayed candidate (TURN allocation failed?)");
    if (nice_agent_set_remote_candidates(to->agent, to->stream, kComponent, cands) < count)
      s.fail(std::string(to->name) + ": remote candidates not accepted");
    g_slist_free_full(cands, reinterpret_cast<GDestroyNotify>(&nice_candidate_free));
  }
  s.candidatesExchanged = true;
}

void onGatheringDone(NiceAgent*, guint, gpointer data) {
  auto* p = static_cast<Peer*>(data);
  p->gathered = true;
  if (p->other()->gathered && !p->session->candidatesExchanged) exchangeCandidates(*p->session);
}

void onStateChanged(NiceAgent*, guint, guint, guint state, gpointer data) {
  auto* p = static_cast<Peer*>(data);
  if (state == NICE_COMPONENT_STATE_READY) p->ready = true;
  if (state == NICE_COMPONENT_STATE_FAILED) {
    p->failed = true;
    p->session->fail(std::string(p->name) + ": ICE failed");
  }
}

void onReceive(NiceAgent*, guint, guint, guint len, gchar* buf, gpointer data) {
  auto* p = static_cast<Peer*>(data);
  p->lastMessage.assign(buf, len);
  if (p->lastMessage.rfind(std::string("from ") + p->other()->name, 0) == 0) ++p->received;
  p->session->checkDone();
}

void Session::checkDone() {
  if (peers[0]->received >= kMessagesWanted && peers[1]->received >= kMessagesWanted) g_main_loop_quit(loop);
}

// Every 50 ms, each READY agent sends one datagram to the other (a lost one is simply followed by the next).
gboolean onTick(gpointer data) {
  auto* s = static_cast<Session*>(data);
  for (Peer* p : s->peers) {
    if (!p->ready) continue;
    const std::string msg = std::string("from ") + p->name + " #" + std::to_string(p->sent++);
    nice_agent_send(p->agent, p->stream, kComponent, static_cast<guint>(msg.size()), msg.data());
  }
  return G_SOURCE_CONTINUE;
}

gboolean onDeadline(gpointer data) {
  auto* s = static_cast<Session*>(data);
  s->timedOut = true;
  s->fail("deadline passed");
  return G_SOURCE_REMOVE;
}

struct RelayServer {
  uint16_t port;
  NiceRelayType type;
  std::string username, password;
};

// Runs the two agents to completion; returns the pair types seen, or fails the test.
void runAgents(const RelayServer& relay) {
  Session s;
  s.context = g_main_context_new();
  s.loop = g_main_loop_new(s.context, FALSE);
  Peer a, b;
  a.name = "alpha";
  b.name = "beta";
  s.peers[0] = &a;
  s.peers[1] = &b;
  for (Peer* p : s.peers) {
    p->session = &s;
    p->agent = nice_agent_new(s.context, NICE_COMPATIBILITY_RFC5245);
    g_object_set(G_OBJECT(p->agent), "force-relay", TRUE, "controlling-mode", p == &a, "upnp", FALSE, "ice-tcp", FALSE,
                 nullptr);
    // libnice skips loopback when it enumerates interfaces: give it 127.0.0.1 explicitly, and only that.
    NiceAddress local;
    nice_address_init(&local);
    ASSERT_TRUE(nice_address_set_from_string(&local, "127.0.0.1"));
    ASSERT_TRUE(nice_agent_add_local_address(p->agent, &local));
    p->stream = nice_agent_add_stream(p->agent, 1);
    ASSERT_GT(p->stream, 0u);
    ASSERT_TRUE(nice_agent_set_relay_info(p->agent, p->stream, kComponent, "127.0.0.1", relay.port,
                                          relay.username.c_str(), relay.password.c_str(), relay.type));
    g_signal_connect(G_OBJECT(p->agent), "candidate-gathering-done", G_CALLBACK(onGatheringDone), p);
    g_signal_connect(G_OBJECT(p->agent), "component-state-changed", G_CALLBACK(onStateChanged), p);
    nice_agent_attach_recv(p->agent, p->stream, kComponent, s.context, onReceive, p);
  }
  for (Peer* p : s.peers) ASSERT_TRUE(nice_agent_gather_candidates(p->agent, p->stream));

  GSource* tick = g_timeout_source_new(50);
  g_source_set_callback(tick, onTick, &s, nullptr);
  g_source_attach(tick, s.context);
  GSource* deadline = g_timeout_source_new(kDeadlineMs);
  g_source_set_callback(deadline, onDeadline, &s, nullptr);
  g_source_attach(deadline, s.context);

  g_main_loop_run(s.loop);

  EXPECT_TRUE(s.failure.empty()) << s.failure << " (gathered " << a.gathered << "/" << b.gathered << ", ready "
                                 << a.ready << "/" << b.ready << ", received " << a.received << "/" << b.received << ")";
  EXPECT_GE(a.received, kMessagesWanted);
  EXPECT_GE(b.received, kMessagesWanted);
  for (Peer* p : s.peers) {
    NiceCandidate* local = nullptr;
    NiceCandidate* remote = nullptr;
    if (nice_agent_get_selected_pair(p->agent, p->stream, kComponent, &local, &remote)) {
      EXPECT_EQ(local->type, NICE_CANDIDATE_TYPE_RELAYED) << p->name;
      EXPECT_EQ(remote->type, NICE_CANDIDATE_TYPE_RELAYED) << p->name;
      gchar addr[NICE_ADDRESS_STRING_LEN];
      nice_address_to_string(&local->addr, addr);
      EXPECT_STREQ(addr, "127.0.0.1") << p->name << ": the relayed address is the node's";
    } else {
      ADD_FAILURE() << p->name << ": no selected pair";
    }
  }

  g_source_destroy(tick);
  g_source_unref(tick);
  g_source_destroy(deadline);
  g_source_unref(deadline);
  for (Peer* p : s.peers) {
    nice_agent_attach_recv(p->agent, p->stream, kComponent, s.context, nullptr, nullptr);
    nice_agent_remove_stream(p->agent, p->stream);
    g_object_unref(p->agent);
  }
  // Let the agents' pending sources (TURN refresh with lifetime 0) run before the context goes.
  while (g_main_context_iteration(s.context, FALSE)) {
  }
  g_main_loop_unref(s.loop);
  g_main_context_unref(s.context);
}

uint16_t portOf(const std::string& endpoint) {
  return static_cast<uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

constexpr const char* kSecret = "libnice-rest-secret";

// The node's relay-to-relay path: each agent's checks go from its relayed address to the other's, both on the
// node's own address and relay port range, which the default peer policy allows (no --allow-peer needed).
Node startNode() {
  return Node({"--listen", "127.0.0.1:0", "--workers", "2", "--user", "nice:ice-ice-baby", "--auth-secret", kSecret,
               "--log-level", "info"});
}

TEST(LibniceRelay, TwoAgentsOverTurnUdpWithStaticUser) {
  auto node = startNode();
  ASSERT_TRUE(node.started()) << node.log();
  runAgents({node.udpPort(), NICE_RELAY_TYPE_TURN_UDP, "nice", "ice-ice-baby"});
  if (HasFailure()) ADD_FAILURE() << node.log();
  EXPECT_TRUE(node.process().running());
}

TEST(LibniceRelay, TwoAgentsOverTurnTcpWithRestSecret) {
  auto node = startNode();
  ASSERT_TRUE(node.started()) << node.log();
  auto [user, password] = restCredentials(kSecret, "libnice");
  runAgents({portOf(node.ready()["tcp"][0].get<std::string>()), NICE_RELAY_TYPE_TURN_TCP, user, password});
  if (HasFailure()) ADD_FAILURE() << node.log();
  EXPECT_NE(node.log().find("identity=libnice"), std::string::npos) << node.log();
  EXPECT_TRUE(node.process().running());
}

}  // namespace
}  // namespace rdv::test
