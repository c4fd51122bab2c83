#include "bench/loadgen/run_delay.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace rdv::bench {

RunDelay::~RunDelay() { close(); }

void RunDelay::close() {
  for (int fd : fds_) ::close(fd);
  fds_.clear();
}

bool RunDelay::open(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return false;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int fd = ::open((dir + "/" + e->d_name + "/schedstat").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) fds_.push_back(fd);
  }
  closedir(d);
  return !fds_.empty() && total() >= 0;
}

int64_t RunDelay::total() const {
  int64_t sum = 0;
  char buf[128];
  for (int fd : fds_) {
    const ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);  // "CPU_NS RUN_DELAY_NS TIMESLICES\n"
    if (n <= 0) continue;                                   // an exited thread
    buf[n] = '\0';
    char* end = nullptr;
    std::strtoll(buf, &end, 10);
    sum += std::strtoll(end, nullptr, 10);
  }
  return sum;
}

}  // namespace rdv::bench
