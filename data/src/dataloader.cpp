// DataLoader: one EpochState per pass over the data. With prefetch, a worker thread gathers batch
// b + 1 into a one-batch slot while the caller uses batch b: batches are made strictly in order by
// one thread, so their contents depend only on the epoch's order, never on timing.
#include "xgrad/data/dataloader.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "splitmix.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/tensor/error.hpp"

namespace xgrad::data {
namespace detail {

class EpochState {
 public:
  EpochState(std::shared_ptr<const Dataset> dataset, int64_t epoch, std::vector<int64_t> order, int64_t batch_size,
             int64_t num_batches, bool prefetch)
      : dataset_(std::move(dataset)),
        epoch_dataset_(dynamic_cast<const EpochDataset*>(dataset_.get())),
        epoch_(epoch),
        order_(std::move(order)),
        batch_size_(batch_size),
        num_batches_(num_batches),
        prefetch_(prefetch) {
    if (prefetch_ && num_batches_ > 0) worker_ = std::thread([this] { run(); });
  }

  ~EpochState() { stop(); }
  EpochState(const EpochState&) = delete;
  EpochState& operator=(const EpochState&) = delete;

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  bool finished() const { return index_ >= num_batches_; }
  const Example& current() const {
    if (finished()) throw ValueError("DataLoader: dereferencing an iterator past the last batch");
    return current_;
  }

  // Moves to the next batch (the first one on the first call).
  void advance() {
    ++index_;
    if (finished()) {
      current_ = Example{};
      return;
    }
    if (!prefetch_) {
      try {
        current_ = make_batch(index_);
      } catch (...) {
        index_ = num_batches_;
        throw;
      }
      return;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return slot_.has_value() || error_ || stop_; });
    if (stop_) {  // the loader started another pass: this one is over
      index_ = num_batches_;
      current_ = Example{};
      return;
    }
    if (error_) {
      index_ = num_batches_;
      std::rethrow_exception(std::exchange(error_, nullptr));
    }
    current_ = std::move(*slot_);
    slot_.reset();
    lock.unlock();
    cv_.notify_all();  // the worker may start on the next batch now
  }

 private:
  Example make_batch(int64_t b) const {
    const auto first = order_.begin() + b * batch_size_;
    const auto last = order_.begin() + std::min<int64_t>((b + 1) * batch_size_, static_cast<int64_t>(order_.size()));
    std::vector<int64_t> indices(first, last);
    return epoch_dataset_ ? epoch_dataset_->get_epoch_batch(indices, epoch_) : dataset_->get_batch(indices);
  }

  void run() {
    NoGradGuard no_grad;  // grad mode is per thread: nothing gathered here joins a graph
    for (int64_t b = 0; b < num_batches_; ++b) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [this] { return stop_ || !slot_.has_value(); });
        if (stop_) return;
      }
      std::optional<Example> batch;
      std::exception_ptr error;
      try {
        batch = make_batch(b);
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (error)
          error_ = error;
        else
          slot_ = std::move(batch);
      }
      cv_.notify_all();
      if (error) return;
    }
  }

  std::shared_ptr<const Dataset> dataset_;
  const EpochDataset* epoch_dataset_;  // dataset_ when it is one, else null
  int64_t epoch_;
  std::vector<int64_t> order_;
  int64_t batch_size_, num_batches_;
  bool prefetch_;
  int64_t index_ = -1;  // the batch in current_
  Example current_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<Example> slot_;  // the prefetched next batch
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace detail

namespace {

using detail::splitmix64;

}  // namespace

const Example& DataLoader::Iterator::operator*() const {
  if (!state_) throw ValueError("DataLoader: dereferencing the end iterator");
  return state_->current();
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  if (state_) state_->advance();
  return *this;
}

bool DataLoader::Iterator::done() const { return !state_ || state_->finished(); }

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  if (!dataset_) throw ValueError("DataLoader: dataset is null");
  if (options_.batch_size < 1)
    throw ValueError("DataLoader: batch_size must be >= 1, got " + std::to_string(options_.batch_size));
}

DataLoader::DataLoader(const Dataset& dataset, LoaderOptions options) : DataLoader(borrow(dataset), options) {}

DataLoader::~DataLoader() {
  if (current_) current_->stop();
}

DataLoader::DataLoader(DataLoader&&) noexcept = default;
DataLoader& DataLoader::operator=(DataLoader&& other) noexcept {
  if (this != &other) {
    if (current_) current_->stop();
    dataset_ = std::move(other.dataset_);
    options_ = other.options_;
    epoch_ = other.epoch_;
    current_ = std::move(other.current_);
  }
  return *this;
}

int64_t DataLoader::num_examples() const {
  const int64_t n = dataset_->size();
  return options_.drop_last ? n - n % options_.batch_size : n;
}

int64_t DataLoader::size() const {
  const int64_t n = dataset_->size();
  return options_.drop_last ? n / options_.batch_size : (n + options_.batch_size - 1) / options_.batch_size;
}

std::vector<int64_t> DataLoader::order(int64_t epoch) const {
  const int64_t n = dataset_->size();
  if (options_.shuffle)
    return random_permutation(n, splitmix64(options_.seed ^ splitmix64(static_cast<uint64_t>(epoch))));
  std::vector<int64_t> identity(static_cast<size_t>(n));
  std::iota(identity.begin(), identity.end(), int64_t{0});
  return identity;
}

DataLoader::Iterator DataLoader::begin() {
  if (current_) current_->stop();  // an unfinished pass ends here (its iterators see no more batches)
  const int64_t epoch = epoch_++;
  std::vector<int64_t> indices = order(epoch);
  indices.resize(static_cast<size_t>(num_examples()));
  current_ = std::make_shared<detail::EpochState>(dataset_, epoch, std::move(indices), options_.batch_size, size(),
                                                  options_.prefetch);
  current_->advance();
  return Iterator(current_);
}

}  // namespace xgrad::data
