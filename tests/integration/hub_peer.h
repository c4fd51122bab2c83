// A test peer that speaks the node's signalling protocol (/v1/signal) itself, with the production codec
// (frames, auth, envelopes): unlike rdv it can submit the very same sealed envelope twice, which is how a
// replay (or a mailbox delivering a stored envelope again) looks to the recipient.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "rendezvous/identity/private_key.h"
#include "rendezvous/client/ws_client.h"
#include "signalling/envelope/crypto.h"
#include "signalling/envelope/envelope.h"
#include "signalling/hub/auth.h"
#include "signalling/hub/frames.h"

namespace rdv::test {

class HubPeer {
 public:
  // Connects to http://<http>/v1/signal and authenticates as `key`; ok() says whether it worked.
  HubPeer(const std::string& http, identity::PrivateKey key) : key_(std::move(key)) {
    auto ws = cli::WebSocketClient::connect("http://" + http, "/v1/signal", std::chrono::seconds(10));
    if (!ws) {
      error_ = ws.error();
      return;
    }
    ws_ = std::move(*ws);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (auto text = ws_->receive(deadline)) {
      auto frame = signalling::decodeFrame(*text);
      if (!frame) continue;
      if (auto* c = std::get_if<signalling::ChallengeFrame>(&*frame)) {
        auto s = signalling::signChallenge(key_, c->hub, c->nonce);
        if (!s) break;
        ws_->sendText(signalling::encodeFrame(signalling::AuthFrame{key_.nodeId(), *s}));
      } else if (std::get_if<signalling::WelcomeFrame>(&*frame)) {
        ok_ = true;
        return;
      } else if (auto* e = std::get_if<signalling::ErrorFrame>(&*frame)) {
        error_ = e->code + ": " + e->message;
        return;
      }
    }
    if (error_.empty()) error_ = "no welcome from the hub";
  }

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const identity::PrivateKey& key() const { return key_; }

  // Any frame out, the next frame in (nullopt at the deadline or when the connection closed).
  bool sendFrame(const signalling::Frame& f) { return ws_ && ws_->sendText(signalling::encodeFrame(f)); }
  std::optional<signalling::Frame> next(std::chrono::steady_clock::time_point deadline) {
    while (ws_) {
      auto text = ws_->receive(deadline);
      if (!text) return std::nullopt;
      if (auto frame = signalling::decodeFrame(*text)) return *frame;
    }
    return std::nullopt;
  }

  // Seals `body` to `to` with this peer's key; seq as given, timestamp now.
  std::optional<signalling::Envelope> seal(const identity::PublicKey& to, signalling::EnvelopeType type, uint64_t seq,
                                           const std::string& body) {
    const auto ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
    signalling::EnvelopeHeader h{key_.nodeId(), to.nodeId(), type, seq, ms};
    signalling::CryptoRng rng;
    auto e = signalling::seal(key_, to, h, asBytes(body), rng);
    if (!e) return std::nullopt;
    return *e;
  }

  // Submits the envelope and waits for the hub's ack of its seq; the ack's status, or nullopt.
  std::optional<signalling::AckStatus> submit(const signalling::Envelope& e) {
    if (!ws_->sendText(signalling::encodeFrame(signalling::EnvelopeFrame{e}))) return std::nullopt;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (auto text = ws_->receive(deadline)) {
      auto frame = signalling::decodeFrame(*text);
      if (!frame) continue;
      if (auto* a = std::get_if<signalling::AckFrame>(&*frame); a && a->seq == e.header.seq) return a->status;
      if (auto* err = std::get_if<signalling::ErrorFrame>(&*frame); err && err->seq == e.header.seq) {
        ADD_FAILURE() << "the hub refused seq " << e.header.seq << ": " << err->code << ": " << err->message;
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

 private:
  identity::PrivateKey key_;
  std::unique_ptr<cli::WebSocketClient> ws_;
  bool ok_ = false;
  std::string error_;
};

}  // namespace rdv::test
