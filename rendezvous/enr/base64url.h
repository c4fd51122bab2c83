// Unpadded URL-safe base64 (RFC 4648 section 5), as the ENR text form requires. Decoding is
// strict: no padding, no '+' or '/', no whitespace, no impossible length, no stray low bits.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rendezvous/base/bytes.h"

namespace rdv::enr {

std::string base64UrlEncode(ByteSpan data);
std::optional<Bytes> base64UrlDecode(std::string_view text);

}  // namespace rdv::enr
