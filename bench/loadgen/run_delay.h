// How long a process's threads have waited on a run queue (runnable, not running): the second field of
// /proc/PID/task/TID/schedstat, nanoseconds, summed over the threads the process had when opened. The paired
// latency scenario reads it around each packet for the server and the forwarder: on a shared machine that
// wait (other processes' time slices on the server's core) is what makes a latency tail, and the pairs in
// which neither process waited show what the relay itself added. (A wake-up on an idle core counts no wait:
// the kernel's run-queue clock does not move between the enqueue and the switch.)
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace rdv::bench {

class RunDelay {
 public:
  RunDelay() = default;
  ~RunDelay();
  RunDelay(const RunDelay&) = delete;
  RunDelay& operator=(const RunDelay&) = delete;

  // Opens the schedstat file of every thread of `pid`; false when there is none (no such process, or a
  // kernel without CONFIG_SCHED_INFO).
  bool open(pid_t pid);
  bool isOpen() const { return !fds_.empty(); }
  void close();
  // The threads' run-queue wait so far, ns (0 when not open); a thread that has exited no longer counts.
  int64_t total() const;

 private:
  std::vector<int> fds_;
};

}  // namespace rdv::bench
