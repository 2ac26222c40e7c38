// The worker pool behind parallel_for, and the thread count.
//
// One pool: xgrad's workers sleep on a condition variable between jobs. Large elementwise
// kernels, convolutions and GEMMs (split into blocks of rows or columns by tensor/src/linalg.cpp,
// each block a single-threaded BLAS call) all run on it, and OpenBLAS itself is set to one thread
// when the library loads, so its own workers, which spin for a while after every GEMM, never run.
//
// A worker that finishes a chunk first watches for the next job for a short while (kSpin) before
// it goes to sleep, and so does the caller waiting for the workers: a training step posts jobs
// back to back, and on a virtual machine each futex sleep and wake-up costs tens of microseconds
// (measured: 14% of a 2-thread MLP step). The spin is short, so an idle pool still sleeps.
#include "xgrad/tensor/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <cblas.h>  // OpenBLAS's header: openblas_set_num_threads
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>  // _mm_pause
#endif
#include <sched.h>

#include "xgrad/tensor/error.hpp"

namespace xgrad {
namespace {

// How long a worker (or the waiting caller) polls before sleeping on the condition variable.
constexpr auto kSpin = std::chrono::microseconds(50);

// Tells the core this is a spin loop (cheaper for the other hardware thread, and for power).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Polls `ready` until it holds or kSpin has passed; whether it holds.
template <typename Ready> bool spin_until(Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  while (!ready()) {
    for (int i = 0; i < 64; ++i) cpu_relax();
    if (std::chrono::steady_clock::now() > deadline) return ready();
  }
  return true;
}

int cores_available() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Workers sleep until a job is posted; each takes chunk `index` of the current job, then sleeps
// again. One job at a time (the mutex is held by the posting thread for the job's duration).
class Pool {
 public:
  static Pool& instance() {
    static Pool pool;
    return pool;
  }

  int threads() const { return threads_.load(std::memory_order_relaxed); }
  void set_threads(int n) {
    std::lock_guard<std::mutex> job_lock(job_mutex_);
    threads_.store(n, std::memory_order_relaxed);
  }

  void run(int parts, const std::function<void(int)>& chunk) {
    // Inside a job (a nested parallel_for), or while another thread's job runs: serially here.
    std::unique_lock<std::mutex> job_lock(job_mutex_, std::defer_lock);
    if (in_job_ || !job_lock.try_lock()) {
      for (int i = 0; i < parts; ++i) chunk(i);
      return;
    }
    ensure_workers(parts - 1);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      chunk_ = &chunk;
      next_ = 1;  // chunk 0 is the caller's
      parts_ = parts;
      pending_ = parts - 1;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    in_job_ = true;
    std::exception_ptr caller_error;
    try {
      chunk(0);
    } catch (...) {
      caller_error = std::current_exception();
    }
    in_job_ = false;
    spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; });
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    chunk_ = nullptr;
    if (caller_error) std::rethrow_exception(caller_error);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // OpenBLAS runs single-threaded from here on: xgrad splits large GEMMs over this pool itself,
  // so there is one set of workers, and they sleep between jobs (OpenBLAS's own spin for a while
  // after every GEMM, which on a 2-core machine steals the core the next kernel needs).
  Pool() : threads_(cores_available()) { openblas_set_num_threads(1); }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  void ensure_workers(int n) {
    while (static_cast<int>(workers_.size()) < n) workers_.emplace_back([this] { work(); });
  }

  void work() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      lock.unlock();  // watch for the next job a while without the lock, then sleep
      spin_until(
          [&] { return stop_.load(std::memory_order_relaxed) || generation_.load(std::memory_order_acquire) != seen; });
      lock.lock();
      wake_.wait(lock, [&] { return stop_ || (generation_ != seen && next_ < parts_); });
      if (stop_) return;
      seen = generation_;
      while (next_ < parts_) {
        const int index = next_++;
        const std::function<void(int)>* chunk = chunk_;
        lock.unlock();
        std::exception_ptr error;
        in_job_ = true;
        try {
          (*chunk)(index);
        } catch (...) {
          error = std::current_exception();
        }
        in_job_ = false;
        lock.lock();
        if (error && !error_) error_ = error;
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }

  std::atomic<int> threads_;
  std::mutex job_mutex_;  // one job at a time
  std::mutex mutex_;      // the job's fields below
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* chunk_ = nullptr;
  int next_ = 0, parts_ = 0;
  // Written under mutex_; atomic so that a spinning thread may read them without it.
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
  static thread_local bool in_job_;
};

thread_local bool Pool::in_job_ = false;

// Set OpenBLAS to one thread when the library loads, before any GEMM could start its pool.
[[maybe_unused]] const int kPoolReady = Pool::instance().threads();

}  // namespace

void set_num_threads(int n) {
  if (n < 1) throw ValueError("set_num_threads: the thread count must be >= 1, got " + std::to_string(n));
  Pool::instance().set_threads(n);  // GEMMs split over the pool too; OpenBLAS stays at one thread
}

int get_num_threads() { return Pool::instance().threads(); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body, int64_t align) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  align = std::max<int64_t>(align, 1);
  const int threads = get_num_threads();
  const int64_t parts = std::min<int64_t>(threads, n / grain);
  if (parts < 2) {
    body(0, n);
    return;
  }
  // Equal chunks rounded up to `align`; the last one takes the rest.
  const int64_t step = ((n + parts - 1) / parts + align - 1) / align * align;
  const int used = static_cast<int>((n + step - 1) / step);
  Pool::instance().run(used, [&](int i) {
    const int64_t begin = i * step;
    body(begin, std::min(n, begin + step));
  });
}

}  // namespace xgrad
