#include "xgrad/train/history.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "xgrad/tensor/error.hpp"

namespace xgrad::train {

namespace {

// New metrics are listed loss, accuracy, val_loss, val_accuracy, the others by name, then lr and
// seconds, so that CSV columns read naturally.
int rank(const std::string& name) {
  static const char* const first[] = {"loss", "accuracy", "val_loss", "val_accuracy"};
  for (int i = 0; i < 4; ++i)
    if (name == first[i]) return i;
  if (name == "lr") return 6;
  if (name == "seconds") return 7;
  return 5;
}

}  // namespace

History History::from_series(const std::vector<std::string>& names, const std::vector<std::vector<double>>& series) {
  if (names.size() != series.size())
    throw ValueError("History::from_series: " + std::to_string(names.size()) + " names for " +
                     std::to_string(series.size()) + " series");
  History h;
  for (size_t i = 0; i < names.size(); ++i) {
    if (h.series_.count(names[i])) throw ValueError("History::from_series: metric '" + names[i] + "' given twice");
    if (i > 0 && series[i].size() != series[0].size())
      throw ValueError("History::from_series: metric '" + names[i] + "' has " + std::to_string(series[i].size()) +
                       " values, '" + names[0] + "' has " + std::to_string(series[0].size()));
    h.names_.push_back(names[i]);
    h.series_[names[i]] = series[i];
  }
  h.epochs_ = series.empty() ? 0 : static_cast<int64_t>(series[0].size());
  return h;
}

void History::append(const Logs& logs) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::string> fresh;
  for (const auto& [name, value] : logs) {
    (void)value;
    if (!series_.count(name)) fresh.push_back(name);  // std::map: already sorted by name
  }
  std::stable_sort(fresh.begin(), fresh.end(),
                   [](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  for (const std::string& name : fresh) {
    names_.push_back(name);
    series_[name] = std::vector<double>(static_cast<size_t>(epochs_), nan);
  }
  for (auto& [name, values] : series_) {
    const auto it = logs.find(name);
    values.push_back(it == logs.end() ? nan : it->second);
  }
  ++epochs_;
}

bool History::has(const std::string& name) const { return series_.count(name) > 0; }

const std::vector<double>& History::operator[](const std::string& name) const {
  const auto it = series_.find(name);
  if (it == series_.end()) {
    std::string known;
    for (const std::string& n : names_) known += (known.empty() ? "" : ", ") + n;
    throw ValueError("History: no metric named '" + name + "' (recorded: " + (known.empty() ? "none" : known) + ")");
  }
  return it->second;
}

std::string History::to_csv_string() const {
  std::ostringstream os;
  os.precision(10);
  os << "epoch";
  for (const std::string& name : names_) os << ',' << name;
  os << '\n';
  for (int64_t e = 0; e < epochs_; ++e) {
    os << e + 1;
    for (const std::string& name : names_) {
      const double v = series_.at(name)[static_cast<size_t>(e)];
      os << ',';
      if (!std::isnan(v)) os << v;
    }
    os << '\n';
  }
  return os.str();
}

void History::to_csv(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IOError("History::to_csv: " + path + ": cannot open for writing: " + std::strerror(errno));
  out << to_csv_string();
  out.close();
  if (!out) throw IOError("History::to_csv: " + path + ": write failed");
}

}  // namespace xgrad::train
