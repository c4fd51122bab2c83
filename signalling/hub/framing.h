// Which wire a signalling connection speaks, chosen by WebSocket subprotocol at the upgrade:
//   rdv.json.1 (also: no subprotocol named): JSON text frames (frames.h), the default;
//   rdv.cbor.1: CBOR binary frames (frames_cbor.h).
// The hub keeps each connection's framing and encodes what it sends to it accordingly; an envelope
// from a JSON client reaches a CBOR client (and back) with the same signed bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "signalling/hub/frames.h"

namespace rdv::signalling {

enum class Framing : uint8_t { Json, Cbor };

inline constexpr std::string_view kJsonSubprotocol = "rdv.json.1";
inline constexpr std::string_view kCborSubprotocol = "rdv.cbor.1";

// The framing of a negotiated subprotocol: "" (none named) and rdv.json.1 are JSON, rdv.cbor.1 is
// CBOR, anything else nullopt.
std::optional<Framing> framingOf(std::string_view subprotocol);
std::string_view subprotocolOf(Framing f);

std::string encodeFrameAs(Framing framing, const Frame& f);
std::string encodeEnvelopeFrameAs(Framing framing, const Envelope& e);
Result<Frame, FrameError> decodeFrameAs(Framing framing, std::string_view message);

}  // namespace rdv::signalling
