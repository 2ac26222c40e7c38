// The checkpoint file format (see xgrad/io/checkpoint_file.hpp): a safetensors file with sections.
#include "checkpoint_format.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace xgrad::io::detail {
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

std::vector<std::string> split(const std::string& text) {
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

double parse_number(const Context& ctx, const std::string& text) {
  if (text.empty() || text.size() > 64) ctx.fail("'" + text.substr(0, 64) + "' is not a number");
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE) ctx.fail("'" + text + "' is not a number");
  return v;
}

}  // namespace

std::string write_checkpoint(const CheckpointArrays& data) {
  NamedArrays arrays;
  for (const auto& [name, a] : data.model) arrays.emplace_back(std::string(kModel) + name, a);
  for (const auto& [name, a] : data.optimizer) arrays.emplace_back(std::string(kOptimizer) + name, a);
  Metadata meta{{"format", kFormat}, {"version", kVersion}};
  for (const auto& [key, v] : data.numbers) meta[std::string(kNumber) + key] = print_number(v);
  for (const auto& [key, text] : data.texts) meta[std::string(kText) + key] = text;
  std::string names;
  const size_t epochs = data.history.empty() ? 0 : data.history.front().second.size();
  for (const auto& [metric, series] : data.history) {
    if (metric.empty() || metric.find(',') != std::string::npos)
      throw ValueError("save_checkpoint: history metric name '" + metric + "' must be non-empty without commas");
    if (series.size() != epochs)
      throw ValueError("save_checkpoint: history metric '" + metric + "' has " + std::to_string(series.size()) +
                       " values, others " + std::to_string(epochs));
    if (!names.empty()) names += ',';
    names += metric;
    std::string values;
    for (double v : series) {
      if (!values.empty()) values += ',';
      values += print_number(v);
    }
    meta[std::string(kHistory) + metric] = values;
  }
  meta["history"] = names;
  return write_safetensors("save_checkpoint", arrays, meta);
}

CheckpointArrays parse_checkpoint(std::string_view who, std::string_view source, std::string_view bytes) {
  SafetensorsArrays file = parse_safetensors(who, source, bytes);
  const Context ctx(who, source);
  const Metadata& meta = file.metadata;
  const auto format = meta.find("format");
  if (format == meta.end() || format->second != kFormat)
    ctx.fail("not an xgrad checkpoint (metadata \"format\" is not \"" + std::string(kFormat) + "\")");
  const auto version = meta.find("version");
  if (version == meta.end() || version->second != kVersion)
    ctx.entry("version").fail("unsupported checkpoint version '" +
                              (version == meta.end() ? std::string("<none>") : version->second.substr(0, 32)) +
                              "' (this build reads " + kVersion + ")");

  CheckpointArrays data;
  for (auto& [name, a] : file.arrays) {
    if (starts_with(name, kModel) && name.size() > kModel.size())
      data.model.emplace_back(name.substr(kModel.size()), std::move(a));
    else if (starts_with(name, kOptimizer) && name.size() > kOptimizer.size())
      data.optimizer.emplace(name.substr(kOptimizer.size()), std::move(a));
    else
      ctx.entry("tensor '" + name + "'").fail("outside the model/ and optimizer/ sections");
  }
  std::map<std::string, std::string> series_text;
  for (const auto& [key, value] : meta) {
    if (key == "format" || key == "version" || key == "history") continue;
    const Context entry = ctx.entry("entry '" + key + "'");
    if (starts_with(key, kNumber))
      data.numbers[key.substr(kNumber.size())] = parse_number(entry, value);
    else if (starts_with(key, kText))
      data.texts[key.substr(kText.size())] = value;
    else if (starts_with(key, kHistory))
      series_text[key.substr(kHistory.size())] = value;
    else
      entry.fail("unknown metadata entry");
  }
  const auto names = meta.find("history");
  size_t epochs = 0;
  for (const std::string& metric : split(names == meta.end() ? std::string() : names->second)) {
    const Context entry = ctx.entry("entry '" + std::string(kHistory) + metric + "'");
    const auto it = series_text.find(metric);
    if (it == series_text.end())
      entry.fail("metric '" + metric + "' of \"history\" has no values (or is listed twice)");
    std::vector<double> series;
    for (const std::string& v : split(it->second)) series.push_back(parse_number(entry, v));
    if (!data.history.empty() && series.size() != epochs)
      entry.fail(std::to_string(series.size()) + " values where the other metrics have " + std::to_string(epochs));
    epochs = series.size();
    series_text.erase(it);
    data.history.emplace_back(metric, std::move(series));
  }
  if (!series_text.empty())
    ctx.entry("entry '" + std::string(kHistory) + series_text.begin()->first + "'")
        .fail("a metric missing from the \"history\" list");
  return data;
}

}  // namespace xgrad::io::detail
