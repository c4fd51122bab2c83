// rdv stun, rdv nat-type: what a node says about this host's public address and its NAT.
#include <CLI/CLI.hpp>

#include <iostream>
#include <nlohmann/json.hpp>

#include "rendezvous/cli/subcommands.h"
#include "rendezvous/client/net.h"
#include "stun/channel_data.h"
#include "stun/client_transaction.h"
#include "stun/nat_behaviour.h"

namespace rdv::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct StunOptions {
  std::string server;
  bool tcp = false;
  bool tls = false;
  std::string caFile;
  std::string serverName;
  bool insecure = false;
  unsigned rtoMs = 500;
  unsigned timeoutMs = 39500;
};

int fail(const std::string& command, const std::string& message) {
  std::cerr << "rdv " << command << ": " << message << "\n";
  return 1;
}

// Prints the mapped address of a finished transaction, or why there is none.
int report(const stun::ClientTransaction& t, const std::string& what) {
  if (t.state() == stun::ClientTransaction::State::TimedOut)
    return fail("stun", "no answer from " + what + " after " + std::to_string(t.transmissions()) + " transmission(s)");
  auto msg = stun::MessageView::parse(t.response());
  if (!msg) return fail("stun", "malformed response from " + what);
  if (msg->cls() == stun::Class::Error) {
    auto ec = msg->errorCode();
    return fail("stun", what + " answered with error " + (ec ? std::to_string(ec->code) + " " + std::string(ec->reason) : "?"));
  }
  auto info = stun::readBindingResponse(*msg);
  if (!info) return fail("stun", "response from " + what + " has no mapped address");
  std::cout << info->mapped.toString() << std::endl;
  return 0;
}

int stunOverUdp(const Endpoint& server, const StunOptions& o) {
  auto sock = udpSocket(server.family());
  if (!sock) return fail("stun", sock.error());
  stun::RetransmitConfig rc;
  rc.rto = std::chrono::milliseconds(o.rtoMs);
  auto t = stun::ClientTransaction::binding(server, stun::randomTransactionId(), rc);
  while (!t.done()) {
    while (auto out = t.poll(Clock::now()))
      if (!sendTo(sock->get(), out->bytes, out->to)) return fail("stun", "cannot send to " + server.toString());
    if (t.done()) break;
    auto deadline = t.nextDeadline().value_or(Clock::now());
    if (auto dgram = receiveFrom(sock->get(), deadline)) t.onDatagram(dgram->first, dgram->second, Clock::now());
  }
  return report(t, server.toString());
}

int stunOverStream(const Endpoint& server, const StunOptions& o) {
  Stream::TlsOptions tls{o.caFile, o.serverName, o.insecure};
  auto stream = Stream::connect(server, std::chrono::milliseconds(o.timeoutMs), o.tls ? &tls : nullptr);
  if (!stream) return fail("stun", stream.error());
  stun::RetransmitConfig rc;
  rc.reliable = true;
  rc.reliableTimeout = std::chrono::milliseconds(o.timeoutMs);
  auto t = stun::ClientTransaction::binding(server, stun::randomTransactionId(), rc);
  Bytes buffered;
  while (!t.done()) {
    while (auto out = t.poll(Clock::now()))
      if (!(*stream)->write(out->bytes)) return fail("stun", "connection to " + server.toString() + " failed");
    if (t.done()) break;
    Bytes chunk = (*stream)->read(t.nextDeadline().value_or(Clock::now()));
    if (chunk.empty()) {
      t.poll(Clock::now());  // turns an expired deadline into TimedOut
      if (!t.done()) return fail("stun", "connection to " + server.toString() + " closed without an answer");
      break;
    }
    buffered.insert(buffered.end(), chunk.begin(), chunk.end());
    while (true) {
      auto frame = stun::nextFrame(buffered);
      if (!frame) return fail("stun", "the server sent something that is not STUN");
      if (!frame->has_value()) break;
      const size_t size = (*frame)->size;
      t.onDatagram(ByteSpan(buffered).first(size), server, Clock::now());
      buffered.erase(buffered.begin(), buffered.begin() + static_cast<std::ptrdiff_t>(size));
    }
  }
  return report(t, server.toString());
}

int natType(const std::string& serverText, unsigned rtoMs, bool json) {
  auto server = resolveEndpoint(serverText);
  if (!server) return fail("nat-type", server.error());
  auto sock = udpSocket(server->family());
  if (!sock) return fail("nat-type", sock.error());
  stun::NatBehaviourConfig cfg;
  // No --rto: the quick schedule (every test gives up after 1 s, the whole run ends within 5 s).
  // --rto MS: RFC 8489's schedule (Rc 7, Rm 16) with that initial RTO.
  if (rtoMs == 0) {
    cfg.retransmit = stun::quickNatRetransmit();
  } else {
    cfg.retransmit.rto = std::chrono::milliseconds(rtoMs);
  }
  cfg.onProgress = [](std::string_view line) { std::cerr << "rdv nat-type: " << line << std::endl; };
  stun::NatBehaviourDiscovery d(*server, cfg);
  while (!d.done()) {
    while (auto out = d.poll(Clock::now()))
      if (!sendTo(sock->get(), out->bytes, out->to)) return fail("nat-type", "cannot send to " + out->to.toString());
    if (d.done()) break;
    auto deadline = d.nextDeadline().value_or(Clock::now());
    if (auto dgram = receiveFrom(sock->get(), deadline)) d.onDatagram(dgram->first, dgram->second, Clock::now());
  }
  const auto& r = d.result();
  if (!r.error.empty()) return fail("nat-type", r.error);
  nlohmann::json mapped = nlohmann::json::array();
  for (const auto& m : r.mappedAddresses) mapped.push_back(m.toString());
  if (json) {
    std::cout << nlohmann::json{{"mapping", stun::toString(r.mapping)},
                                {"filtering", stun::toString(r.filtering)},
                                {"mapped", mapped}}
                     .dump()
              << std::endl;
  } else {
    std::cout << "mapping: " << stun::toString(r.mapping) << "\n"
              << "filtering: " << stun::toString(r.filtering) << "\n"
              << "mapped: " << (r.mappedAddresses.empty() ? "" : r.mappedAddresses.front().toString()) << std::endl;
  }
  return 0;
}

}  // namespace

void addStunCommands(CLI::App& app) {
  auto o = std::make_shared<StunOptions>();
  auto* stun = app.add_subcommand("stun", "ask a STUN server for this host's public (mapped) address; prints IP:PORT");
  stun->add_option("server", o->server, "HOST:PORT of the STUN server (port defaults to 3478)")->required();
  auto* tcp = stun->add_flag("--tcp", o->tcp, "use TCP");
  stun->add_flag("--tls", o->tls, "use TLS")->excludes(tcp);
  stun->add_option("--ca", o->caFile, "with --tls: trust this CA or self-signed certificate (PEM)");
  stun->add_option("--server-name", o->serverName, "with --tls: expected name in the certificate (and SNI)");
  stun->add_flag("--insecure", o->insecure, "with --tls: do not verify the certificate");
  stun->add_option("--rto", o->rtoMs, "UDP: initial retransmission timeout in ms (RFC 8489 default 500)")
      ->check(CLI::Range(10u, 60000u));
  stun->add_option("--timeout", o->timeoutMs, "TCP/TLS: ms to wait for the answer (RFC 8489 default 39500)")
      ->check(CLI::Range(10u, 600000u));
  stun->callback([o] {
    auto server = resolveEndpoint(o->server);
    if (!server) {
      exitCode() = fail("stun", server.error());
      return;
    }
    exitCode() = (o->tcp || o->tls) ? stunOverStream(*server, *o) : stunOverUdp(*server, *o);
  });

  auto n = std::make_shared<std::tuple<std::string, unsigned, bool>>("", 0u, false);
  auto* nat = app.add_subcommand(
      "nat-type", "measure this host's NAT mapping and filtering behaviour (RFC 5780, RFC 4787 terms) "
                  "against a node started with --alt-address; progress lines on stderr");
  nat->add_option("server", std::get<0>(*n), "HOST:PORT of the node")->required();
  nat->add_option("--rto", std::get<1>(*n),
                  "initial retransmission timeout in ms with RFC 8489's schedule (7 transmissions, last wait "
                  "16 x RTO: --rto 500 is the RFC's 39.5 s per unanswered test); default: RTO 100 ms, 4 "
                  "transmissions, last wait 3 x RTO, so each test gives up after 1 s and the run ends within 5 s")
      ->check(CLI::Range(10u, 60000u));
  nat->add_flag("--json", std::get<2>(*n), "print one JSON object instead of lines");
  nat->callback([n] { exitCode() = natType(std::get<0>(*n), std::get<1>(*n), std::get<2>(*n)); });
}

}  // namespace rdv::cli
