#include "rendezvous/node/api/signal_verifier.h"

namespace rdv::node {

SignalVerifierPool::SignalVerifierPool(unsigned threads, std::function<void()> wake) : wake_(std::move(wake)) {
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

SignalVerifierPool::~SignalVerifierPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void SignalVerifierPool::submit(uint64_t conn, std::string text, signalling::FrameCheckContext context) {
  {
    std::lock_guard lock(mutex_);
    PerConn& c = conns_[conn];
    if (c.waiting.empty() && !c.inWork) turn_.push_back(conn);
    c.waiting.push_back({std::move(text), std::move(context)});
  }
  ready_.notify_one();
}

std::vector<SignalVerifierPool::Done> SignalVerifierPool::takeDone() {
  std::lock_guard lock(mutex_);
  std::vector<Done> out;
  out.swap(done_);
  return out;
}

void SignalVerifierPool::run() {
  while (true) {
    uint64_t conn = 0;
    Job job;
    {
      std::unique_lock lock(mutex_);
      while (true) {
        ready_.wait(lock, [this] { return stopping_ || !turn_.empty(); });
        if (stopping_) return;
        conn = turn_.front();
        turn_.pop_front();
        auto it = conns_.find(conn);
        if (it == conns_.end() || it->second.inWork || it->second.waiting.empty()) continue;  // stale turn
        job = std::move(it->second.waiting.front());
        it->second.waiting.pop_front();
        it->second.inWork = true;
        break;
      }
    }
    auto checked = signalling::checkFrame(job.text, job.context);
    {
      std::lock_guard lock(mutex_);
      done_.push_back({conn, std::move(checked)});
      auto it = conns_.find(conn);
      if (it != conns_.end()) {
        it->second.inWork = false;
        if (!it->second.waiting.empty()) {
          turn_.push_back(conn);  // its next frame waits for the others' turns
          ready_.notify_one();
        } else {
          conns_.erase(it);
        }
      }
    }
    wake_();
  }
}

}  // namespace rdv::node
