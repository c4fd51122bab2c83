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

// Seconds of CPU the whole machine has been busy, all cores summed: user, nice, system, irq, softirq and
// steal of /proc/stat's "cpu" line. Forwarding in the kernel (a TC program, softirq) is charged to no
// process, so the fast path's rows count this; it includes every other process of the machine too.
std::optional<double> machineBusySeconds();
// Of that, the seconds in interrupts and softirq (irq + softirq), where a TC program's forwarding runs.
std::optional<double> machineIrqSeconds();

}  // namespace rdv::bench
