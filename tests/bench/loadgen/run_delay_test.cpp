// Run-queue waits (bench/loadgen/run_delay.h) read from /proc for this very process: two threads made to
// share one core must wait for each other, and a process that does not exist has no figures.
#include "bench/loadgen/run_delay.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace rdv::bench {
namespace {

TEST(RunDelay, TwoThreadsOnOneCoreWaitForEachOther) {
  cpu_set_t mine;
  ASSERT_EQ(sched_getaffinity(0, sizeof(mine), &mine), 0);
  int cpu = 0;
  while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &mine)) ++cpu;
  ASSERT_LT(cpu, CPU_SETSIZE);

  std::atomic<bool> stop{false};
  std::atomic<int> spinning{0};
  std::atomic<bool> pinned{true};
  auto spin = [&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof(one), &one) != 0) pinned = false;
    ++spinning;
    while (!stop.load()) {
    }
  };
  std::thread a(spin), b(spin);
  RunDelay delay;
  const bool opened = delay.open(getpid());  // after the threads exist: their files are opened too
  // Both spinning on one core (on a busy machine a new thread may wait a while for its first turn), then
  // until the wait grows, with a deadline; read while they live: an exited thread's figures are gone.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (spinning.load() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const int64_t before = delay.total();
  int64_t after = before;
  while (after == before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    after = delay.total();
  }
  stop = true;
  a.join();
  b.join();
  ASSERT_TRUE(opened);
  ASSERT_TRUE(pinned);
  EXPECT_GT(after, before);  // two spinning threads on one core: one ran while the other waited
}

TEST(RunDelay, NoProcessNoFigures) {
  RunDelay delay;
  EXPECT_FALSE(delay.open(0x3ffffff0));
  EXPECT_FALSE(delay.isOpen());
  EXPECT_EQ(delay.total(), 0);
}

}  // namespace
}  // namespace rdv::bench
