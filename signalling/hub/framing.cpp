#include "signalling/hub/framing.h"

#include "signalling/hub/frames_cbor.h"

namespace rdv::signalling {

std::optional<Framing> framingOf(std::string_view subprotocol) {
  if (subprotocol.empty() || subprotocol == kJsonSubprotocol) return Framing::Json;
  if (subprotocol == kCborSubprotocol) return Framing::Cbor;
  return std::nullopt;
}

std::string_view subprotocolOf(Framing f) { return f == Framing::Cbor ? kCborSubprotocol : kJsonSubprotocol; }

std::string encodeFrameAs(Framing framing, const Frame& f) {
  return framing == Framing::Cbor ? encodeFrameCbor(f) : encodeFrame(f);
}

std::string encodeEnvelopeFrameAs(Framing framing, const Envelope& e) {
  return framing == Framing::Cbor ? encodeEnvelopeFrameCbor(e) : encodeEnvelopeFrame(e);
}

Result<Frame, FrameError> decodeFrameAs(Framing framing, std::string_view message) {
  return framing == Framing::Cbor ? decodeFrameCbor(message) : decodeFrame(message);
}

}  // namespace rdv::signalling
