// A raw HTTP/1.1 connection to the real daemon's HTTP API or admin API, for tests that check the bytes
// on the wire (headers, keep-alive, bodies): requests written by hand, answers read by Content-Length.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace rdv::test {

struct HttpAnswer {
  int status = 0;  // 0: no well-formed answer (connection failed, closed, or not HTTP/1.1)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

std::string lowerCase(std::string s);
// A header of an answer, "<absent>" when it has none.
std::string headerOf(const HttpAnswer& a, const std::string& name);

// A connection that can carry several requests (keep-alive). Reads wait at most 10 s.
class HttpConnection {
 public:
  explicit HttpConnection(const std::string& hostPort);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // One request (`headers` as "Name: value"; `body` sent as is after them, with no Content-Length added);
  // the answer read by its Content-Length. Bytes after it stay buffered for the next answer.
  HttpAnswer request(const std::string& method, const std::string& target, const std::vector<std::string>& headers,
                     const std::string& body = "");
  // Bytes that arrived after the last answer (a well-behaved server sends none), waiting at most `ms`.
  std::string leftover(int ms);

 private:
  bool fill();
  std::string hostPort_;
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// One request on a connection of its own.
HttpAnswer httpOnce(const std::string& hostPort, const std::string& method, const std::string& target,
                    const std::vector<std::string>& headers, const std::string& body = "");

}  // namespace rdv::test
