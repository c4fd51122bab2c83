// A small blocking HTTP/1.1 client for rdv's one-shot API calls (register, discover, node-info),
// over net.h's Stream (plain TCP, or TLS for https://). One request per connection
// ("Connection: close"); the reply body is read up to Content-Length, or to the close.
// Chosen over libwebsockets' client API, which needs an event loop and callbacks for what is one
// request and one response here, and over libcurl, which would be a new dependency.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "rendezvous/client/net.h"
#include "rendezvous/base/result.h"

namespace rdv::cli {

struct HttpUrl {
  bool tls = false;      // https
  std::string host;      // name or IP (IPv6 without brackets)
  uint16_t port = 0;     // 80 / 443 when absent
  std::string basePath;  // "" or "/prefix" (no trailing slash)
};

// "http://HOST[:PORT][/prefix]" or "https://..."; IPv6 as [ADDR].
Result<HttpUrl, std::string> parseHttpUrl(std::string_view url);

struct HttpReply {
  int status = 0;
  std::string body;
};

struct HttpCall {
  std::string method = "GET";
  std::string target;  // path and query, appended to the URL's base path
  std::string body;    // sent as application/json when not empty
  std::chrono::milliseconds timeout{10000};
  const Stream::TlsOptions* tls = nullptr;  // for https; nullptr: system trust store
  std::string authorization;                // the Authorization header's value; empty: none
};

Result<HttpReply, std::string> httpRequest(const HttpUrl& url, const HttpCall& call);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string urlEncode(std::string_view text);

}  // namespace rdv::cli
