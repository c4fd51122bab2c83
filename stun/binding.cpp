// The Binding responder: RFC 8489 §8.3 (and RFC 3489 compatibility, §12), RFC 5780 §6.1.
#include "stun/binding.h"

#include <array>
#include <vector>

namespace rdv::stun {

namespace {

// Comprehension-required attributes a Binding request may carry that we understand (or may safely ignore:
// a Binding server without credentials does not check MESSAGE-INTEGRITY, RFC 8489 §12; ICE connectivity
// checks carry PRIORITY and USE-CANDIDATE).
constexpr std::array<uint16_t, 9> kKnownBase = {
    attr::Username, attr::MessageIntegrity, attr::MessageIntegritySha256, attr::Userhash,  attr::Realm,
    attr::Nonce,    attr::Priority,         attr::UseCandidate,           attr::PasswordAlgorithm,
};
// Known only when RFC 5780 is enabled; otherwise a request using them gets 420 (RFC 5780 §6.1: a server
// without an alternate address treats CHANGE-REQUEST as unknown).
constexpr std::array<uint16_t, 3> kKnown5780 = {attr::ChangeRequest, attr::ResponsePort, attr::Padding};

// The node's four RFC 5780 addresses seen from the one that received the request.
struct Rfc5780View {
  Endpoint local;
  IpAddress otherIp;
  uint16_t otherPort = 0;

  Endpoint changed(bool ip, bool port) const {
    return Endpoint(ip ? otherIp : local.ip(), port ? otherPort : local.port());
  }
};

// RFC 5780 applies only when the request arrived on one of the four configured combinations.
std::optional<Rfc5780View> rfc5780View(const BindingConfig& config, const Endpoint& local) {
  if (!config.rfc5780) return std::nullopt;
  const AlternateAddresses& a = *config.rfc5780;
  Rfc5780View v{local, {}, 0};
  if (local.ip() == a.primaryIp) {
    v.otherIp = a.alternateIp;
  } else if (local.ip() == a.alternateIp) {
    v.otherIp = a.primaryIp;
  } else {
    return std::nullopt;
  }
  if (local.port() == a.primaryPort) {
    v.otherPort = a.alternatePort;
  } else if (local.port() == a.alternatePort) {
    v.otherPort = a.primaryPort;
  } else {
    return std::nullopt;
  }
  if (v.otherIp.family() != local.family() || v.otherIp == local.ip() || v.otherPort == local.port()) {
    return std::nullopt;
  }
  return v;
}

// Trailer shared by every reply: SOFTWARE when configured, FINGERPRINT when the request had one
// (RFC 8489 §7.3: a response carries FINGERPRINT if the request did; RFC 3489 knows neither).
Bytes finish(MessageBuilder& b, const MessageView& request, const BindingConfig& config) {
  if (!config.software.empty()) b.addString(attr::Software, config.software);
  if (request.hasMagicCookie() && request.has(attr::Fingerprint)) b.addFingerprint();
  return std::move(b).finish();
}

BindingReply errorReply(const MessageView& request, const BindingRequestContext& ctx, const BindingConfig& config,
                        uint16_t code, std::span<const uint16_t> unknown = {}) {
  MessageBuilder b = MessageBuilder::responseTo(request, Class::Error);
  b.addErrorCode(code);
  if (!unknown.empty()) b.addUnknownAttributes(unknown);
  return BindingReply{finish(b, request, config), ctx.local, ctx.source};
}

}  // namespace

std::optional<BindingReply> handleBinding(const MessageView& request, const BindingRequestContext& ctx,
                                          const BindingConfig& config) {
  // RFC 8489 §6.3: indications and responses get no answer.
  if (!request.is(Method::Binding, Class::Request)) return std::nullopt;

  const std::optional<Rfc5780View> view = rfc5780View(config, ctx.local);
  std::vector<uint16_t> known(kKnownBase.begin(), kKnownBase.end());
  if (view) known.insert(known.end(), kKnown5780.begin(), kKnown5780.end());

  // RFC 8489 §6.3.1.1: unknown comprehension-required attributes -> 420 listing them.
  const std::vector<uint16_t> unknown = request.unknownComprehensionRequired(known);
  if (!unknown.empty()) return errorReply(request, ctx, config, error::UnknownAttribute, unknown);

  BindingReply reply{{}, ctx.local, ctx.source};
  std::optional<uint16_t> paddingLength;
  if (view) {
    // Known attributes with malformed values -> 400 (RFC 8489 §6.3.1.1).
    std::optional<ChangeRequestValue> change;
    if (request.has(attr::ChangeRequest) && !(change = request.changeRequest())) {
      return errorReply(request, ctx, config, error::BadRequest);
    }
    std::optional<uint16_t> responsePort;
    if (request.has(attr::ResponsePort)) {
      responsePort = request.responsePort();
      if (!responsePort || *responsePort == 0) return errorReply(request, ctx, config, error::BadRequest);
    }
    if (const Attribute* padding = request.find(attr::Padding)) {
      // RFC 5780 §6.1: PADDING together with RESPONSE-PORT -> 400. We echo a PADDING as long as the
      // request's own, so the response never exceeds the request's size by more than our attributes.
      if (responsePort) return errorReply(request, ctx, config, error::BadRequest);
      if (!ctx.stream) paddingLength = static_cast<uint16_t>(padding->value.size());
    }
    // RFC 5780 §6.1 describes CHANGE-REQUEST and RESPONSE-PORT for UDP: over TCP/TLS the response can
    // only travel back on the connection it came in on, so we accept both attributes (no 420: a client
    // probing over TCP still learns OTHER-ADDRESS) but honour neither.
    if (!ctx.stream) {
      if (change) reply.from = view->changed(change->changeIp, change->changePort);
      if (responsePort) reply.to = Endpoint(ctx.source.ip(), *responsePort);
    }
  }

  MessageBuilder b = MessageBuilder::responseTo(request, Class::Success);
  if (request.hasMagicCookie()) {
    b.addXorAddress(attr::XorMappedAddress, ctx.source);
    if (view) {
      b.addAddress(attr::ResponseOrigin, reply.from);
      b.addAddress(attr::OtherAddress, view->changed(true, true));
    }
  } else {
    // RFC 3489 client: MAPPED-ADDRESS only (it cannot read XOR-MAPPED-ADDRESS), and the RFC 3489 names
    // for the origin and the alternate address.
    b.addAddress(attr::MappedAddress, ctx.source);
    if (view) {
      b.addAddress(attr::SourceAddress, reply.from);
      b.addAddress(attr::ChangedAddress, view->changed(true, true));
    }
  }
  if (paddingLength) b.addPadding(*paddingLength);
  reply.bytes = finish(b, request, config);
  return reply;
}

}  // namespace rdv::stun
