// The checkpoint file format (see checkpoint_file.hpp): a safetensors file with sections.
#include "xgrad/io/checkpoint_file.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "xgrad/io/atomic_file.hpp"
#include "xgrad/tensor/error.hpp"

namespace xgrad::io {
namespace {

constexpr const char* kFormat = "xgrad.checkpoint";
constexpr const char* kVersion = "1";
constexpr std::string_view kModel = "model/", kOptimizer = "optimizer/", kNumber = "number/", kText = "text/",
                           kHistory = "history/";

std::string print_number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);  // 17 significant digits: every double reads back exactly
  return buf;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

class Reader {
 public:
  explicit Reader(const std::string& source) : source_(source) {}
  [[noreturn]] void fail(const std::string& entry, const std::string& what) const {
    throw IOError("load_checkpoint: " + source_ + ": " + (entry.empty() ? "" : "entry '" + entry + "': ") + what);
  }
  double number(const std::string& entry, const std::string& text) const {
    if (text.empty() || text.size() > 64) fail(entry, "'" + text.substr(0, 64) + "' is not a number");
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || errno == ERANGE) fail(entry, "'" + text + "' is not a number");
    return v;
  }
  std::vector<double> numbers(const std::string& entry, const std::string& text) const {
    std::vector<double> out;
    if (text.empty()) return out;
    size_t begin = 0;
    while (true) {
      const size_t comma = text.find(',', begin);
      out.push_back(number(entry, text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin)));
      if (comma == std::string::npos) return out;
      begin = comma + 1;
    }
  }

 private:
  const std::string& source_;
};

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t begin = 0;
  while (true) {
    const size_t comma = text.find(',', begin);
    out.push_back(text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin));
    if (comma == std::string::npos) return out;
    begin = comma + 1;
  }
}

}  // namespace

std::string to_checkpoint(const CheckpointData& data) {
  NamedTensors tensors;
  for (const auto& [name, t] : data.model) tensors.emplace_back(std::string(kModel) + name, t);
  for (const auto& [name, t] : data.optimizer) tensors.emplace_back(std::string(kOptimizer) + name, t);
  Metadata meta{{"format", kFormat}, {"version", kVersion}};
  for (const auto& [key, v] : data.numbers) meta[std::string(kNumber) + key] = print_number(v);
  for (const auto& [key, text] : data.texts) meta[std::string(kText) + key] = text;
  std::string names;
  size_t epochs = data.history.empty() ? 0 : data.history.front().second.size();
  for (const auto& [metric, series] : data.history) {
    if (metric.empty() || metric.find(',') != std::string::npos)
      throw ValueError("save_checkpoint: history metric name '" + metric + "' must be non-empty without commas");
    if (series.size() != epochs)
      throw ValueError("save_checkpoint: history metric '" + metric + "' has " + std::to_string(series.size()) +
                       " values, others " + std::to_string(epochs));
    names += (names.empty() ? "" : ",") + metric;
    std::string values;
    for (double v : series) values += (values.empty() ? "" : ",") + print_number(v);
    meta[std::string(kHistory) + metric] = values;
  }
  meta["history"] = names;
  return to_safetensors(tensors, meta);
}

CheckpointData from_checkpoint(std::string_view bytes, const std::string& source) {
  SafetensorsFile file = from_safetensors(bytes, source);
  const Reader reader(source);
  auto& meta = file.metadata;
  const auto format = meta.find("format");
  if (format == meta.end() || format->second != kFormat)
    reader.fail("", "not an xgrad checkpoint (metadata \"format\" is not \"" + std::string(kFormat) + "\")");
  const auto version = meta.find("version");
  if (version == meta.end() || version->second != kVersion)
    reader.fail("version", "unsupported checkpoint version '" +
                               (version == meta.end() ? std::string("<none>") : version->second.substr(0, 32)) +
                               "' (this build reads " + kVersion + ")");

  CheckpointData data;
  for (auto& [name, t] : file.tensors) {
    if (starts_with(name, kModel) && name.size() > kModel.size()) {
      data.model.emplace_back(name.substr(kModel.size()), t);
    } else if (starts_with(name, kOptimizer) && name.size() > kOptimizer.size()) {
      data.optimizer.emplace(name.substr(kOptimizer.size()), t);
    } else {
      reader.fail(name, "a tensor outside the model/ and optimizer/ sections");
    }
  }
  std::map<std::string, std::string> series_text;
  for (const auto& [key, value] : meta) {
    if (key == "format" || key == "version" || key == "history") continue;
    if (starts_with(key, kNumber)) {
      data.numbers[key.substr(kNumber.size())] = reader.number(key, value);
    } else if (starts_with(key, kText)) {
      data.texts[key.substr(kText.size())] = value;
    } else if (starts_with(key, kHistory)) {
      series_text[key.substr(kHistory.size())] = value;
    } else {
      reader.fail(key, "unknown metadata entry");
    }
  }
  const auto names = meta.find("history");
  size_t epochs = 0;
  for (const std::string& metric : split_names(names == meta.end() ? std::string() : names->second)) {
    const auto it = series_text.find(metric);
    if (it == series_text.end()) reader.fail("history", "metric '" + metric + "' has no history/ entry");
    std::vector<double> series = reader.numbers(std::string(kHistory) + metric, it->second);
    if (!data.history.empty() && series.size() != epochs)
      reader.fail(std::string(kHistory) + metric,
                  std::to_string(series.size()) + " values where the other metrics have " + std::to_string(epochs));
    epochs = series.size();
    series_text.erase(it);
    data.history.emplace_back(metric, std::move(series));
  }
  if (!series_text.empty())
    reader.fail(std::string(kHistory) + series_text.begin()->first, "a metric missing from the \"history\" list");
  return data;
}

void save_checkpoint_file(const std::string& path, const CheckpointData& data) {
  write_file_atomic(path, to_checkpoint(data));
}

CheckpointData load_checkpoint_file(const std::string& path) { return from_checkpoint(read_file(path), path); }

}  // namespace xgrad::io
