// A token bucket driven by the caller's clock: `rate` tokens per second up to `burst`. Starts full.
#pragma once

#include <algorithm>
#include <chrono>

namespace rdv::signalling {

class TokenBucket {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  TokenBucket(double rate, double burst, TimePoint now) : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}

  // Takes one token if available. A clock that steps back refills nothing (and never underflows).
  bool take(TimePoint now) {
    if (now > last_) {
      const double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
      last_ = now;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  TimePoint last_;
};

}  // namespace rdv::signalling
