// parallel_for: every index exactly once, aligned chunks, serial when small, errors come back,
// nesting runs inline; set_num_threads checks its argument. The kernels that split their work
// (sums, copies, the fused gradient loops) give the same bits at any thread count.
#include <atomic>
#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "../support/expect.hpp"
#include "xgrad/tensor/kernels.hpp"
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

bool same_bits(const Array& a, const Array& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && a.is_contiguous() && b.is_contiguous() &&
         std::memcmp(a.raw_data(), b.raw_data(), static_cast<size_t>(a.numel()) * itemsize(a.dtype())) == 0;
}

// f() at 1 thread and at 3 threads.
template <typename F> std::pair<Array, Array> at_one_and_three_threads(F f) {
  ThreadCount restore;
  set_num_threads(1);
  Array one = f();
  set_num_threads(3);
  return {one, f()};
}

TEST(ParallelKernels, SumsGiveTheSameBitsAtAnyThreadCount) {
  Generator gen(7);
  const Array x = kernels::normal({1024, 700}, 1.0, 2.0, kFloat32, gen);  // 716,800 elements
  for (const Dims& dims : {Dims{}, Dims{0}, Dims{1}}) {
    auto [one, three] = at_one_and_three_threads([&] { return kernels::sum(x, dims, false); });
    EXPECT_TRUE(same_bits(one, three)) << "dims " << to_string(dims);
  }
  // And they are right: the full sum against a double loop, row 5 and column 3 by hand.
  const float* p = x.data<float>();
  double total = 0, row5 = 0, col3 = 0;
  for (int64_t i = 0; i < x.numel(); ++i) total += p[i];
  for (int64_t j = 0; j < 700; ++j) row5 += p[5 * 700 + j];
  for (int64_t i = 0; i < 1024; ++i) col3 += p[i * 700 + 3];
  EXPECT_NEAR(kernels::sum(x, {}, false).data<float>()[0], total, 0.0625);  // one float32 ulp there
  EXPECT_NEAR(kernels::sum(x, {1}, false).data<float>()[5], row5, 1e-4);
  EXPECT_NEAR(kernels::sum(x, {0}, false).data<float>()[3], col3, 1e-4);
}

TEST(ParallelKernels, CopiesOfBroadcastAndTransposedViewsAreExact) {
  // 2000 x 300 results (600,000 elements) from a column, a row, a transpose and a plain matrix.
  const Array column = kernels::arange(0, 2000, 1, kFloat32).view({2000, 1}).expand({2000, 300});
  const Array row = kernels::arange(0, 300, 1, kFloat32).expand({2000, 300});
  const Array transposed = kernels::arange(0, 600000, 1, kFloat32).view({300, 2000}).transpose(0, 1);
  const Array matrix = kernels::arange(0, 600000, 1, kFloat32).view({2000, 300});
  const std::vector<std::pair<Array, float (*)(int64_t, int64_t)>> cases = {
      {column, [](int64_t i, int64_t) { return static_cast<float>(i); }},
      {row, [](int64_t, int64_t j) { return static_cast<float>(j); }},
      {transposed, [](int64_t i, int64_t j) { return static_cast<float>(j * 2000 + i); }},
      {matrix, [](int64_t i, int64_t j) { return static_cast<float>(i * 300 + j); }},
  };
  for (const auto& [view, expected] : cases) {
    auto [one, three] = at_one_and_three_threads([&] { return view.clone(); });
    ASSERT_TRUE(same_bits(one, three));
    const float* q = three.data<float>();
    for (int64_t i = 0; i < 2000; ++i)
      for (int64_t j = 0; j < 300; ++j) ASSERT_EQ(q[i * 300 + j], expected(i, j)) << i << "," << j;
  }
}

TEST(ParallelKernels, ReluMaskWithAnExpandedScalarGradient) {
  Generator gen(3);
  const Array x = kernels::normal({300000}, 0.0, 1.0, kFloat32, gen);
  const Array g = kernels::full({}, 2.5, kFloat32).expand({300000});  // what sum's backward sends
  auto [one, three] = at_one_and_three_threads([&] { return kernels::mul_mask(g, x, kernels::Binary::Gt, 0.0); });
  ASSERT_TRUE(same_bits(one, three));
  const float* px = x.data<float>();
  const float* po = three.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) ASSERT_EQ(po[i], px[i] > 0 ? 2.5f : 0.0f) << i;
  // A broadcast the shapes do not allow is still an error.
  testing::expect_error<ShapeError>(
      [&] { kernels::mul_mask(kernels::full({}, 1.0, kFloat32).expand({4}), x, kernels::Binary::Gt, 0.0); },
      {"mul_mask", "[4]", "[300000]"});
}

TEST(ParallelKernels, BothProductGradientsInOnePass) {
  Generator gen(5);
  const Array a = kernels::normal({200000}, 0.0, 1.0, kFloat64, gen);
  const Array b = kernels::normal({200000}, 0.0, 1.0, kFloat64, gen);
  const Array g = kernels::normal({200000}, 0.0, 1.0, kFloat64, gen);
  Array ga, gb;
  ASSERT_TRUE(kernels::mul_backward(g, a, b, ga, gb));
  EXPECT_TRUE(same_bits(ga, kernels::binary(kernels::Binary::Mul, g, b)));
  EXPECT_TRUE(same_bits(gb, kernels::binary(kernels::Binary::Mul, g, a)));
  const Array scalar = kernels::full({}, -1.5, kFloat64).expand({200000});
  ASSERT_TRUE(kernels::mul_backward(scalar, a, b, ga, gb));
  EXPECT_TRUE(same_bits(gb, kernels::binary(kernels::Binary::Mul, scalar, a)));
  // Broadcasting or mixed dtypes are left to the general formula.
  EXPECT_FALSE(kernels::mul_backward(g, a, kernels::full({1}, 2.0, kFloat64), ga, gb));
  EXPECT_FALSE(kernels::mul_backward(g, a, b.to(kFloat32), ga, gb));
}

TEST(SetNumThreads, RejectsLessThanOne) {
  testing::expect_error<ValueError>([] { set_num_threads(0); }, {"set_num_threads", "0"});
  EXPECT_GE(get_num_threads(), 1);
}

}  // namespace
}  // namespace xgrad
