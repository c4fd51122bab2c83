// The two encodings of an envelope (docs/signalling.md):
//   binary: header (82) || epk (33) || nonce (12) || sig (65) || ciphertext (rest, >= 16)
//           used by the SQLite mailbox; also what a non-JSON transport would carry.
//   JSON:   {"v":1,"from":hex,"to":hex,"type":"offer","seq":n,"ts":n,"epk":hex,"nonce":hex,
//            "ct":base64url (unpadded),"sig":hex}, used in the WebSocket frames.
// Version 2 (envelope_v2.h): binary 0x02 || from (32) || to (32, full) || the v2 bytes; JSON the v2
// bytes as one unpadded base64url string.
// Decoding checks shapes only (sizes, version, type); verify() checks the signature.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "signalling/envelope/envelope.h"

namespace rdv::signalling {

inline constexpr size_t kBinaryFixedSize = kHeaderSize + kEphemeralKeySize + kNonceSize + kSignatureSize;

Bytes encodeBinary(const Envelope& e);
Result<Envelope, EnvelopeError> decodeBinary(ByteSpan in);

nlohmann::json toJson(const Envelope& e);
// Unknown keys are ignored (they are not signed, and the hub forwards its own re-encoding).
Result<Envelope, EnvelopeError> fromJson(const nlohmann::json& j);

std::string toJsonText(const Envelope& e);
Result<Envelope, EnvelopeError> fromJsonText(std::string_view text);

}  // namespace rdv::signalling
