#include "rendezvous/registry/cookie.h"

#include <algorithm>

#include "rendezvous/enr/base64url.h"
#include "rendezvous/identity/keccak.h"

namespace rdv::registry {
namespace {

constexpr uint8_t kCookieVersion = 1;
constexpr size_t kCookieSize = 17;
constexpr size_t kTagSize = 8;

}  // namespace

std::string encodeCookie(std::string_view ns, uint64_t counter) {
  Bytes raw;
  raw.reserve(kCookieSize);
  raw.push_back(kCookieVersion);
  appendBe32(raw, static_cast<uint32_t>(counter >> 32));
  appendBe32(raw, static_cast<uint32_t>(counter));
  const auto tag = identity::keccak256(asBytes(ns));
  raw.insert(raw.end(), tag.begin(), tag.begin() + kTagSize);
  return enr::base64UrlEncode(raw);
}

std::optional<uint64_t> decodeCookie(std::string_view ns, std::string_view cookie) {
  if (cookie.size() > 64) return std::nullopt;
  auto raw = enr::base64UrlDecode(cookie);
  if (!raw || raw->size() != kCookieSize || (*raw)[0] != kCookieVersion) return std::nullopt;
  const auto tag = identity::keccak256(asBytes(ns));
  if (!std::equal(tag.begin(), tag.begin() + kTagSize, raw->begin() + 9)) return std::nullopt;
  return (uint64_t{loadBe32(raw->data() + 1)} << 32) | loadBe32(raw->data() + 5);
}

}  // namespace rdv::registry
