// DataLoader: batch counts and sizes, orders fixed by the seed and independent of the worker
// thread, every example once per epoch, early exits, error propagation, no graph on the worker.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <thread>

#include <gtest/gtest.h>

#include "temp_dir.hpp"
#include "xgrad/data/dataloader.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::data {
namespace {

using xgrad::testing::message_of;

TensorDataset numbered(int64_t n) {
  std::vector<float> x(static_cast<size_t>(n));
  std::vector<int64_t> y(static_cast<size_t>(n));
  std::iota(x.begin(), x.end(), 0.0f);
  std::iota(y.begin(), y.end(), int64_t{0});
  return TensorDataset(tensor(x, {n, 1}), tensor(y, {n}));
}

// Every target of one pass, batch by batch.
std::vector<std::vector<int64_t>> pass(DataLoader& loader) {
  std::vector<std::vector<int64_t>> batches;
  for (const Example& b : loader) batches.push_back(b.target.to_vector<int64_t>());
  return batches;
}

std::vector<int64_t> flat(const std::vector<std::vector<int64_t>>& batches) {
  std::vector<int64_t> all;
  for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
  return all;
}

// Records the grad mode of the thread that gathers; can fail at one index; can be slow.
class Probe : public Dataset {
 public:
  explicit Probe(int64_t fail_at = -1, int sleep_ms = 0) : fail_at_(fail_at), sleep_ms_(sleep_ms) {}
  int64_t size() const override { return 10; }
  Example get(int64_t i) const override {
    if (i == fail_at_) throw IOError("probe: example " + std::to_string(i) + " is broken");
    if (sleep_ms_) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
    grad_seen = is_grad_enabled();
    return {full({1}, static_cast<double>(i)), scalar_tensor(static_cast<double>(i), {.dtype = kInt64})};
  }
  mutable std::atomic<bool> grad_seen{true};

 private:
  int64_t fail_at_;
  int sleep_ms_;
};

TEST(DataLoader, BatchesInOrderWithoutShuffle) {
  const TensorDataset d = numbered(10);
  DataLoader loader(d, {.batch_size = 4});
  EXPECT_EQ(loader.size(), 3);
  EXPECT_EQ(pass(loader), (std::vector<std::vector<int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}));
}

TEST(DataLoader, BatchesHoldTheMatchingInputs) {
  const TensorDataset d = numbered(7);
  DataLoader loader(d, {.batch_size = 3, .shuffle = true, .seed = 9});
  for (const Example& b : loader) {
    EXPECT_EQ(b.input.shape(), Shape({b.target.numel(), 1}));
    const auto x = b.input.to_vector<float>();
    const auto y = b.target.to_vector<int64_t>();
    for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(static_cast<int64_t>(x[i]), y[i]);
  }
}

TEST(DataLoader, DropLastDropsTheShortBatch) {
  const TensorDataset d = numbered(10);
  DataLoader loader(d, {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(loader.size(), 2);
  EXPECT_EQ(loader.num_examples(), 8);
  EXPECT_EQ(flat(pass(loader)), std::vector<int64_t>({0, 1, 2, 3, 4, 5, 6, 7}));
  DataLoader exact(d, {.batch_size = 5, .drop_last = true});
  EXPECT_EQ(exact.size(), 2);
}

TEST(DataLoader, ShuffleVisitsEveryExampleOncePerEpochInANewOrder) {
  const TensorDataset d = numbered(50);
  DataLoader loader(d, {.batch_size = 8, .shuffle = true, .seed = 3});
  const std::vector<int64_t> first = flat(pass(loader)), second = flat(pass(loader));
  std::vector<int64_t> sorted = first, expected(50);
  std::sort(sorted.begin(), sorted.end());
  std::iota(expected.begin(), expected.end(), int64_t{0});
  EXPECT_EQ(sorted, expected);
  EXPECT_NE(first, expected);
  EXPECT_NE(first, second);
  EXPECT_EQ(loader.epoch(), 2);
}

TEST(DataLoader, SameSeedGivesTheSameBatchesWithOrWithoutTheWorker) {
  const TensorDataset d = numbered(37);
  DataLoader a(d, {.batch_size = 5, .shuffle = true, .seed = 11, .prefetch = true});
  DataLoader b(d, {.batch_size = 5, .shuffle = true, .seed = 11, .prefetch = false});
  DataLoader c(d, {.batch_size = 5, .shuffle = true, .seed = 12});
  for (int epoch = 0; epoch < 3; ++epoch) {
    const auto pa = pass(a);
    EXPECT_EQ(pa, pass(b)) << "epoch " << epoch;
    EXPECT_NE(pa, pass(c)) << "epoch " << epoch;
  }
}

TEST(DataLoader, OrderOfAnEpochDoesNotDependOnEarlierEpochs) {
  const TensorDataset d = numbered(20);
  DataLoader full_passes(d, {.batch_size = 4, .shuffle = true, .seed = 5});
  DataLoader partial(d, {.batch_size = 4, .shuffle = true, .seed = 5});
  pass(full_passes);
  for (const Example& b : partial) {  // leave the first epoch after one batch
    (void)b;
    break;
  }
  EXPECT_EQ(pass(full_passes), pass(partial));
  EXPECT_EQ(flat(pass(full_passes)), full_passes.order(2));
}

TEST(DataLoader, AnUnfinishedPassEndsWhenTheNextBegins) {
  Probe slow(-1, 2);
  DataLoader loader(slow, {.batch_size = 2});
  auto it = loader.begin();
  EXPECT_EQ((*it).target.to_vector<int64_t>(), std::vector<int64_t>({0, 1}));
  auto again = loader.begin();  // stops the first pass's worker
  ++it;
  EXPECT_TRUE(it == loader.end());
  EXPECT_EQ(again->target.to_vector<int64_t>(), std::vector<int64_t>({0, 1}));
  // Destroying the loader in the middle of a pass joins its worker.
}

TEST(DataLoader, DatasetErrorsSurfaceAtTheFailingBatch) {
  for (bool prefetch : {true, false}) {
    Probe broken(5);
    DataLoader loader(broken, {.batch_size = 2, .prefetch = prefetch});
    int batches = 0;
    const std::string message = message_of<IOError>([&] {
      for (const Example& b : loader) {
        (void)b;
        ++batches;
      }
    });
    EXPECT_EQ(batches, 2) << "prefetch " << prefetch;  // {0, 1}, {2, 3}; {4, 5} fails
    EXPECT_NE(message.find("example 5 is broken"), std::string::npos);
    EXPECT_THROW(pass(loader), IOError);  // a later pass starts afresh and fails again
  }
}

TEST(DataLoader, WorkerRecordsNoGraph) {
  Probe probe;
  DataLoader loader(probe, {.batch_size = 3, .prefetch = true});
  ASSERT_TRUE(is_grad_enabled());
  for (const Example& b : loader) EXPECT_FALSE(b.input.requires_grad());
  EXPECT_FALSE(probe.grad_seen.load());
  EXPECT_TRUE(is_grad_enabled());  // the caller's mode is untouched
}

TEST(DataLoader, OwnsASharedDatasetAndSkipsAnEmptyOne) {
  DataLoader owning(std::make_shared<TensorDataset>(numbered(3)), {.batch_size = 2});
  EXPECT_EQ(flat(pass(owning)), std::vector<int64_t>({0, 1, 2}));
  const TensorDataset one = numbered(1);
  const Subset none(borrow(one), {});
  DataLoader empty(none, {.batch_size = 2});
  EXPECT_EQ(empty.size(), 0);
  EXPECT_TRUE(empty.begin() == empty.end());
}

TEST(DataLoader, RejectsBadOptions) {
  const TensorDataset d = numbered(3);
  EXPECT_NE(message_of<ValueError>([&] { DataLoader(d, {.batch_size = 0}); }).find("batch_size must be >= 1"),
            std::string::npos);
  EXPECT_THROW(DataLoader(std::shared_ptr<const Dataset>(), {}), ValueError);
}

TEST(DataLoader, MovesKeepTheirPlace) {
  const TensorDataset d = numbered(6);
  DataLoader a(d, {.batch_size = 4, .shuffle = true, .seed = 1});
  pass(a);
  DataLoader b = std::move(a);
  EXPECT_EQ(b.epoch(), 1);
  EXPECT_EQ(flat(pass(b)), b.order(1));
}

}  // namespace
}  // namespace xgrad::data
