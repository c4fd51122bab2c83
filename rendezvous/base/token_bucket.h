// The one rate limiter of the project: a token bucket in GCRA form (virtual scheduling). It holds one
// theoretical arrival time (TAT, nanoseconds of the caller's clock): each unit taken moves the TAT on by
// 1/rate; a take conforms when, after it, the TAT is no further ahead of now than `burst` units' worth
// of time. Starts full. Lock-free (one CAS loop), allocation-free, safe from any number of threads.
// Used for the relay's per-identity and node-wide byte rates, the relay's 401 answers per source and
// the hub's frames per connection.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace rdv {

class TokenBucket {
 public:
  TokenBucket() = default;  // unlimited until configured
  TokenBucket(double perSecond, double burst) { configure(perSecond, burst); }
  TokenBucket(const TokenBucket& other) { *this = other; }
  TokenBucket& operator=(const TokenBucket& other);

  // perSecond <= 0: every take conforms. `burst` is in the unit of take()'s amount.
  void configure(double perSecond, double burst);
  // Takes `amount` units if they conform at `nowNs`; false (and nothing taken) otherwise. `nowNs` is
  // from a clock that does not step back (a wall clock's caller passes the latest time it has seen).
  bool take(double amount, int64_t nowNs);
  // Takes `amount` units whether or not they conform (what was already sent, e.g. forwarded by the
  // kernel fast path since the last look): the bucket goes into debt. True when it still conforms after.
  bool charge(double amount, int64_t nowNs);
  // Gives back what take() took (the caller dropped the packet at a later check).
  void refund(double amount);
  // True when the bucket holds its whole burst at `nowNs` (nothing taken in the last burst/rate
  // seconds): it is then the same as a fresh bucket (the relay's source table frees such entries).
  bool full(int64_t nowNs) const;
  double rate() const { return rate_.load(std::memory_order_relaxed); }

  // Nanoseconds since the clock's epoch, for take().
  template <class TimePoint>
  static int64_t nanos(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

 private:
  int64_t cost(double amount) const;  // ns of bucket time `amount` occupies at the current rate
  std::atomic<int64_t> tat_{INT64_MIN};
  std::atomic<double> rate_{0};
  std::atomic<int64_t> tolerance_{0};  // burst in ns
};

}  // namespace rdv
