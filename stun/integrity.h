// MESSAGE-INTEGRITY(-SHA256), FINGERPRINT, credential keys (RFC 8489 §9, §14.5-14.7). OpenSSL underneath.
#pragma once

#include <string_view>

#include "rendezvous/base/bytes.h"
#include "rendezvous/base/constant_time.h"
#include "stun/constants.h"
#include "stun/message.h"

namespace rdv::stun {

// Long-term credential key: MD5(username ":" realm ":" password) or SHA-256 of the same (RFC 8489 §9.2.2).
// Strings are used as given (no SASLprep/OpaqueString processing; documented in docs/protocol.md).
Bytes longTermKey(std::string_view username, std::string_view realm, std::string_view password,
                  PasswordAlgorithm alg = PasswordAlgorithm::Md5);
// Short-term credential key: the password itself (RFC 8489 §9.1.2).
Bytes shortTermKey(std::string_view password);
// USERHASH = SHA-256(username ":" realm) (RFC 8489 §14.4).
Bytes userhash(std::string_view username, std::string_view realm);

enum class IntegrityCheck { Ok, Missing, Mismatch };
// Verifies the message's MESSAGE-INTEGRITY (HMAC-SHA1) with `key`, per RFC 8489 §14.5 (length adjusted).
IntegrityCheck verifyMessageIntegrity(const MessageView& m, ByteSpan key);
// Verifies MESSAGE-INTEGRITY-SHA256 (full 32-byte or truncated >= 16-byte forms).
IntegrityCheck verifyMessageIntegritySha256(const MessageView& m, ByteSpan key);

// CRC-32 (ISO-HDLC) of data XOR 0x5354554E.
uint32_t fingerprintOf(ByteSpan data);

Bytes hmacSha1(ByteSpan key, ByteSpan data);
Bytes hmacSha256(ByteSpan key, ByteSpan data);
// The same into a caller's buffer: nothing allocated (the Allocate path's MACs and nonces).
void hmacSha1(ByteSpan key, ByteSpan data, uint8_t (&out)[20]);
void hmacSha256(ByteSpan key, ByteSpan data, uint8_t (&out)[32]);
Bytes sha256(ByteSpan data);
Bytes md5(ByteSpan data);

}  // namespace rdv::stun
