// parallel_for: every index exactly once, aligned chunks, serial when small, errors come back,
// nesting runs inline; set_num_threads checks its argument.
#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "../support/expect.hpp"
#include "xgrad/tensor/parallel.hpp"

namespace xgrad {
namespace {

// Restores the thread count a test changed.
struct ThreadCount {
  int saved = get_num_threads();
  ~ThreadCount() { set_num_threads(saved); }
};

TEST(ParallelFor, CoversEveryIndexOnceInAlignedChunks) {
  ThreadCount restore;
  set_num_threads(3);
  std::vector<std::atomic<int>> hits(100003);
  std::mutex m;
  std::vector<std::pair<int64_t, int64_t>> chunks;
  parallel_for(
      static_cast<int64_t>(hits.size()), 1000,
      [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)]++;
        std::lock_guard<std::mutex> lock(m);
        chunks.emplace_back(begin, end);
      },
      64);
  for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
  EXPECT_EQ(chunks.size(), 3u);
  for (const auto& [begin, end] : chunks) {
    EXPECT_EQ(begin % 64, 0);
    EXPECT_LT(begin, end);
  }
}

TEST(ParallelFor, SmallWorkOrOneThreadRunsInOneCall) {
  ThreadCount restore;
  int calls = 0;
  parallel_for(1500, 1000, [&](int64_t begin, int64_t end) {  // 1500 < 2 * grain
    ++calls;
    EXPECT_EQ(begin, 0);
    EXPECT_EQ(end, 1500);
  });
  set_num_threads(1);
  parallel_for(1 << 20, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 2);
  parallel_for(0, 1, [&](int64_t, int64_t) { ++calls; });  // nothing to do
  EXPECT_EQ(calls, 2);
}

TEST(ParallelFor, AnExceptionReachesTheCallerAfterEveryChunk) {
  ThreadCount restore;
  set_num_threads(2);
  std::atomic<int> finished{0};
  EXPECT_THROW(parallel_for(1 << 16, 1024,
                            [&](int64_t begin, int64_t) {
                              if (begin > 0) throw std::runtime_error("chunk failed");
                              ++finished;
                            }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 1);
  // The pool still works afterwards.
  std::atomic<int64_t> sum{0};
  parallel_for(1 << 16, 1024, [&](int64_t begin, int64_t end) { sum += end - begin; });
  EXPECT_EQ(sum.load(), 1 << 16);
}

TEST(ParallelFor, NestedLoopsRunInline) {
  ThreadCount restore;
  set_num_threads(2);
  std::atomic<int64_t> total{0};
  parallel_for(4096, 1024, [&](int64_t begin, int64_t end) {
    parallel_for(end - begin, 16, [&](int64_t b, int64_t e) { total += e - b; });
  });
  EXPECT_EQ(total.load(), 4096);
}

TEST(SetNumThreads, RejectsLessThanOne) {
  testing::expect_error<ValueError>([] { set_num_threads(0); }, {"set_num_threads", "0"});
  EXPECT_GE(get_num_threads(), 1);
}

}  // namespace
}  // namespace xgrad
