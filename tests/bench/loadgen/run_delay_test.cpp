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

  std::atomic<bool> go{false}, stop{false};
  auto spin = [&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    sched_setaffinity(0, sizeof(one), &one);
    while (!go.load()) std::this_thread::yield();
    while (!stop.load()) {
    }
  };
  std::thread a(spin), b(spin);
  RunDelay delay;
  const bool opened = delay.open(getpid());  // after the threads exist: their files are opened too
  const int64_t before = delay.total();
  go = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const int64_t after = delay.total();  // while they live: an exited thread's figures are gone
  stop = true;
  a.join();
  b.join();
  ASSERT_TRUE(opened);
  EXPECT_GT(after, before);  // 100 ms of two spinning threads on one core: one ran while the other waited
}

TEST(RunDelay, NoProcessNoFigures) {
  RunDelay delay;
  EXPECT_FALSE(delay.open(0x3ffffff0));
  EXPECT_FALSE(delay.isOpen());
  EXPECT_EQ(delay.total(), 0);
}

}  // namespace
}  // namespace rdv::bench
