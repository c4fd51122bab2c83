#include "bench/loadgen/server_cpu.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <string>

namespace rdv::bench {
namespace {

// utime + stime, fields 14 and 15 of /proc/PID/stat; the command name (field 2) may hold spaces and
// parentheses, so fields are counted from its closing parenthesis.
std::optional<double> fromProcStat(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return std::nullopt;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const std::string line(buf);
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  unsigned long long utime = 0, stime = 0;
  // After ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
  if (std::sscanf(line.c_str() + paren + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                  &stime) != 2) {
    return std::nullopt;
  }
  const long hz = sysconf(_SC_CLK_TCK);
  return static_cast<double>(utime + stime) / static_cast<double>(hz > 0 ? hz : 100);
}

}  // namespace

namespace {
// /proc/stat's "cpu" line, all cores: busy (user+nice+system+irq+softirq+steal) or irq+softirq only, seconds.
std::optional<double> procStat(bool irqOnly) {
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return std::nullopt;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait,
                            &irq, &softirq, &steal);
  std::fclose(f);
  if (n < 8) return std::nullopt;
  const long hz = sysconf(_SC_CLK_TCK);
  const unsigned long long ticks = irqOnly ? irq + softirq : user + nice + system + irq + softirq + steal;
  return static_cast<double>(ticks) / static_cast<double>(hz > 0 ? hz : 100);
}
}  // namespace

std::optional<double> machineBusySeconds() { return procStat(false); }
std::optional<double> machineIrqSeconds() { return procStat(true); }

std::optional<double> processCpuSeconds(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  clockid_t clock{};
  timespec ts{};
  if (clock_getcpuclockid(pid, &clock) == 0 && clock_gettime(clock, &ts) == 0)
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  return fromProcStat(pid);
}

}  // namespace rdv::bench
