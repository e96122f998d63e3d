// One thread that runs the tasks given to it, in the order given (internal, not installed):
// the DataLoader's next batch (Note [prefetch thread]) and the MPI group's started
// all-reduces (ProcessGroup::start_all_reduce). The thread lives as long as the object, so
// its OpenMP team and its MPI progress are made once.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace tg {

class TaskThread {
 public:
  TaskThread() = default;
  TaskThread(const TaskThread&) = delete;
  TaskThread& operator=(const TaskThread&) = delete;
  // Runs the tasks still queued, then ends the thread.
  ~TaskThread() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  // Queues `work`; the future is ready when it has run (an exception it threw comes out of
  // get()).
  std::future<void> submit(std::function<void()> work) {
    std::packaged_task<void()> task(std::move(work));
    std::future<void> done = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
    return done;
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return !tasks_.empty() || stop_; });
      if (tasks_.empty()) return;  // stopped, nothing left
      std::packaged_task<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<void()>> tasks_;
  bool stop_ = false;
  std::thread thread_{[this] { run(); }};  // last: starts once the rest is made
};

}  // namespace tg
