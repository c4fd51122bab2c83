#include "rendezvous/client/http_client.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace rdv::cli {

namespace {

constexpr size_t kMaxReplyBytes = 8 * 1024 * 1024;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::optional<size_t> parseSize(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.remove_suffix(1);
  size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

}  // namespace

Result<HttpUrl, std::string> parseHttpUrl(std::string_view url) {
  HttpUrl u;
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    u.tls = true;
  } else {
    return unexpected("'" + std::string(url) + "': expected http://HOST[:PORT] or https://HOST[:PORT]");
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) u.basePath = std::string(rest.substr(slash));
  while (!u.basePath.empty() && u.basePath.back() == '/') u.basePath.pop_back();
  std::string_view portText;
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return unexpected("'" + std::string(url) + "': unterminated [IPv6]");
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return unexpected("'" + std::string(url) + "': bad port");
      portText = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) portText = authority.substr(colon + 1);
  }
  if (u.host.empty()) return unexpected("'" + std::string(url) + "': no host");
  u.port = u.tls ? 443 : 80;
  if (!portText.empty() || authority.ends_with(":")) {
    auto p = parseSize(portText);
    if (!p || *p == 0 || *p > 65535) return unexpected("'" + std::string(url) + "': bad port");
    u.port = static_cast<uint16_t>(*p);
  }
  return u;
}

std::string urlEncode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Result<HttpReply, std::string> httpRequest(const HttpUrl& url, const HttpCall& call) {
  const bool v6 = url.host.find(':') != std::string::npos;
  const std::string hostPort = (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
  auto to = resolveEndpoint(hostPort, url.port);
  if (!to) return unexpected(to.error());
  const auto deadline = std::chrono::steady_clock::now() + call.timeout;
  Stream::TlsOptions defaults;
  if (url.tls && !v6 && !IpAddress::parse(url.host)) defaults.serverName = url.host;
  auto stream = Stream::connect(*to, call.timeout, url.tls ? (call.tls ? call.tls : &defaults) : nullptr);
  if (!stream) return unexpected(stream.error());

  std::string request = call.method + " " + url.basePath + call.target + " HTTP/1.1\r\n";
  request += "Host: " + hostPort + "\r\nUser-Agent: rdv/0.1.0\r\nAccept: application/json\r\nConnection: close\r\n";
  // No CR/LF may come from the caller into the header block.
  if (!call.authorization.empty() && call.authorization.find_first_of("\r\n") == std::string::npos)
    request += "Authorization: " + call.authorization + "\r\n";
  if (!call.body.empty() || call.method == "POST" || call.method == "DELETE")
    request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(call.body.size()) + "\r\n";
  request += "\r\n" + call.body;
  if (!(*stream)->write(asBytes(request))) return unexpected("sending the request to " + hostPort + " failed");

  std::string in;
  std::optional<size_t> headerEnd, contentLength;
  while (true) {
    if (headerEnd && contentLength && in.size() >= *headerEnd + *contentLength) break;
    Bytes chunk = (*stream)->read(deadline);
    if (chunk.empty()) {
      if (std::chrono::steady_clock::now() >= deadline) return unexpected("no reply from " + hostPort + " in time");
      break;  // closed
    }
    in.append(asString(chunk));
    if (in.size() > kMaxReplyBytes) return unexpected("reply from " + hostPort + " too large");
    if (!headerEnd) {
      const auto end = in.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      headerEnd = end + 4;
      size_t pos = in.find("\r\n") + 2;
      while (pos < end) {
        const auto eol = in.find("\r\n", pos);
        const std::string line = in.substr(pos, eol - pos);
        const auto colon = line.find(':');
        if (colon != std::string::npos && lower(line.substr(0, colon)) == "content-length")
          contentLength = parseSize(std::string_view(line).substr(colon + 1));
        if (colon != std::string::npos && lower(line.substr(0, colon)) == "transfer-encoding")
          return unexpected(std::string("chunked replies are not supported"));
        pos = eol + 2;
      }
    }
  }
  if (!headerEnd) return unexpected("incomplete HTTP reply from " + hostPort);
  HttpReply reply;
  // Status line: "HTTP/1.1 201 Created".
  const auto sp = in.find(' ');
  auto status = sp == std::string::npos ? std::nullopt : parseSize(std::string_view(in).substr(sp + 1, 3));
  if (!in.starts_with("HTTP/1.") || !status) return unexpected("not an HTTP reply from " + hostPort);
  reply.status = static_cast<int>(*status);
  reply.body = in.substr(*headerEnd, contentLength ? *contentLength : std::string::npos);
  return reply;
}

}  // namespace rdv::cli
