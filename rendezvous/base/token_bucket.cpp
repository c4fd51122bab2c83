#include "rendezvous/base/token_bucket.h"

#include <algorithm>

namespace rdv {

TokenBucket& TokenBucket::operator=(const TokenBucket& other) {
  tat_.store(other.tat_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  rate_.store(other.rate_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  tolerance_.store(other.tolerance_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  return *this;
}

void TokenBucket::configure(double perSecond, double burst) {
  const double rate = perSecond > 0 ? perSecond : 0.0;
  const double tolerance = rate == 0 ? 0.0 : burst * 1e9 / rate;
  tolerance_.store(static_cast<int64_t>(std::min(tolerance, 9.0e18)), std::memory_order_relaxed);
  rate_.store(rate, std::memory_order_relaxed);
}

int64_t TokenBucket::cost(double amount) const {
  const double rate = rate_.load(std::memory_order_relaxed);
  if (rate == 0) return 0;
  return static_cast<int64_t>(amount * 1e9 / rate);
}

bool TokenBucket::take(double amount, int64_t nowNs) {
  if (rate_.load(std::memory_order_relaxed) == 0) return true;
  const int64_t c = cost(amount);
  const int64_t tolerance = tolerance_.load(std::memory_order_relaxed);
  int64_t tat = tat_.load(std::memory_order_relaxed);
  while (true) {
    const int64_t next = std::max(tat, nowNs) + c;
    if (next - nowNs > tolerance) return false;
    if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return true;
  }
}

bool TokenBucket::charge(double amount, int64_t nowNs) {
  if (rate_.load(std::memory_order_relaxed) == 0) return true;
  const int64_t c = cost(amount);
  int64_t tat = tat_.load(std::memory_order_relaxed);
  int64_t next = 0;
  do {
    next = std::max(tat, nowNs) + c;
  } while (!tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed));
  return next - nowNs <= tolerance_.load(std::memory_order_relaxed);
}

bool TokenBucket::full(int64_t nowNs) const {
  return rate_.load(std::memory_order_relaxed) == 0 || tat_.load(std::memory_order_relaxed) <= nowNs;
}

void TokenBucket::refund(double amount) { tat_.fetch_sub(cost(amount), std::memory_order_relaxed); }

}  // namespace rdv
