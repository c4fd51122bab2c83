// The signalling verifier pool (issue 12, item 3; DESIGN principle 8): N threads that run
// signalling::checkFrame() (JSON decoding and the secp256k1 recovery of auth and envelope signatures)
// off the API thread. Work is taken round-robin by connection, one frame of a connection at a time,
// so results come back in each connection's order and one flooding connection gets one thread's turn
// at most while the others' frames are served between its frames. docs/signalling.md, "Cost".
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "signalling/hub/frame_check.h"

namespace rdv::node {

class SignalVerifierPool {
 public:
  struct Done {
    uint64_t conn = 0;
    signalling::CheckedFrame checked;
  };
  // `wake` is called from a pool thread after results were added (the owner then calls takeDone()
  // on its own thread).
  SignalVerifierPool(unsigned threads, std::function<void()> wake);
  ~SignalVerifierPool();
  SignalVerifierPool(const SignalVerifierPool&) = delete;
  SignalVerifierPool& operator=(const SignalVerifierPool&) = delete;

  // Queues a frame of `conn`. Every frame submitted is reported, also after its connection closed (the
  // owner counts what is outstanding per connection, pauses reading one with too many, and tells the
  // hub of a close only after that connection's frames).
  void submit(uint64_t conn, std::string text, signalling::FrameCheckContext context);
  // Results in completion order (per connection: arrival order).
  std::vector<Done> takeDone();

 private:
  struct Job {
    std::string text;
    signalling::FrameCheckContext context;
  };
  struct PerConn {
    std::deque<Job> waiting;
    bool inWork = false;
  };
  void run();

  std::function<void()> wake_;
  std::mutex mutex_;
  std::condition_variable ready_;
  bool stopping_ = false;
  std::unordered_map<uint64_t, PerConn> conns_;
  std::deque<uint64_t> turn_;  // connections with waiting work and none in work, in round-robin order
  std::vector<Done> done_;
  std::vector<std::thread> threads_;
};

}  // namespace rdv::node
