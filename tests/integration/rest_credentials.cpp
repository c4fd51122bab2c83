#include "tests/integration/rest_credentials.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <ctime>

namespace rdv::test {

std::string restUsername(const std::string& name, int64_t validitySeconds) {
  return std::to_string(static_cast<int64_t>(std::time(nullptr)) + validitySeconds) + ":" + name;
}

std::string restPassword(const std::string& secret, const std::string& username) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned macLen = 0;
  if (!HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(username.data()), username.size(), mac, &macLen))
    return {};
  std::string out(4 * ((macLen + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(macLen));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

}  // namespace rdv::test
