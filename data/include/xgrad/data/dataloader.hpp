#pragma once
// DataLoader: a dataset in batches, optionally shuffled, with the next batch gathered on a
// background thread while the caller works on the current one.
//
//   xg::data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .seed = 42});
//   for (int epoch = 0; epoch < 10; ++epoch)
//     for (const xg::data::Example& batch : loader) { ... batch.input, batch.target ... }
//
// Determinism: epoch k (the k-th range-for over the loader, from 0) visits the examples in the
// order random_permutation(size, mix(seed, k)): the same seed gives the same batches on every run,
// whatever the timing of the worker thread, and epoch k's order does not depend on whether the
// earlier epochs were iterated to the end. The worker records no graph (grad mode is per thread).
// An EpochDataset (random augmentation, data/augment.hpp) is also told the epoch of each batch, so
// that its examples can vary by epoch and still be the same on every run and after set_epoch().
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "xgrad/data/dataset.hpp"

namespace xgrad::data {

// A dataset whose examples depend on the epoch that fetches them. A DataLoader gathers its batches
// with get_epoch_batch(indices, epoch); get_batch() gives epoch 0's. (A Subset over it hides the
// epoch: wrap the part that is to vary, such as the training part after a split, not the whole.)
class EpochDataset : public Dataset {
 public:
  // The examples at `indices` as epoch `epoch` sees them. Called from the loader's worker thread.
  virtual Example get_epoch_batch(const std::vector<int64_t>& indices, int64_t epoch) const = 0;
  Example get_batch(const std::vector<int64_t>& indices) const override { return get_epoch_batch(indices, 0); }
};

struct LoaderOptions {
  int64_t batch_size = 32;
  bool shuffle = false;
  uint64_t seed = 0;
  bool drop_last = false;  // drop the last, smaller batch
  bool prefetch = true;    // gather the next batch on a background thread
};

namespace detail {
class EpochState;
}

class DataLoader {
 public:
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Example;
    using difference_type = std::ptrdiff_t;
    using pointer = const Example*;
    using reference = const Example&;

    Iterator() = default;
    const Example& operator*() const;
    const Example* operator->() const { return &**this; }
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return done() == other.done(); }
    bool operator!=(const Iterator& other) const { return !(*this == other); }

   private:
    friend class DataLoader;
    explicit Iterator(std::shared_ptr<detail::EpochState> state) : state_(std::move(state)) {}
    bool done() const;
    std::shared_ptr<detail::EpochState> state_;
  };

  // ValueError when batch_size < 1. The first form shares ownership of the dataset; the second
  // borrows it, and the dataset must outlive the loader.
  DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options);
  DataLoader(const Dataset& dataset, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;
  DataLoader(DataLoader&&) noexcept;
  DataLoader& operator=(DataLoader&&) noexcept;

  // Starts the next epoch (stopping an unfinished one). Errors of the dataset are rethrown from
  // the ++ (or begin()) that reaches the failing batch.
  Iterator begin();
  Iterator end() { return Iterator(); }

  int64_t size() const;                              // batches per epoch
  int64_t num_examples() const;                      // examples per epoch (after drop_last)
  int64_t epoch() const { return epoch_; }           // epochs started so far
  void set_epoch(int64_t epoch) { epoch_ = epoch; }  // the next begin() starts this epoch
  const LoaderOptions& options() const { return options_; }
  const Dataset& dataset() const { return *dataset_; }

  // The example order of epoch k (what the k-th pass visits), for tests and resuming.
  std::vector<int64_t> order(int64_t epoch) const;

 private:
  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  int64_t epoch_ = 0;
  std::shared_ptr<detail::EpochState> current_;
};

}  // namespace xgrad::data
