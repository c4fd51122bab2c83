// The CPU time another process (the server under test) has used: utime + stime of all its threads,
// for the server-CPU-per-packet rows of the benchmarks. Linux only.
#pragma once

#include <optional>
#include <sys/types.h>

namespace rdv::bench {

// Seconds of CPU (user + system, every thread, live and exited) process `pid` has used so far. Read
// from its process CPU-time clock (clock_getcpuclockid: nanoseconds), else from /proc/PID/stat's
// utime + stime (clock ticks, usually 10 ms). nullopt when the process is gone or unreadable.
std::optional<double> processCpuSeconds(pid_t pid);

}  // namespace rdv::bench
