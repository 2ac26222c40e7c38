// libFuzzer target: io::detail::parse_checkpoint (the checkpoint layout over safetensors), then a
// write/parse round trip of what loaded.
#include "checkpoint_format.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xgrad;
  io::detail::CheckpointArrays loaded;
  try {
    loaded = io::detail::parse_checkpoint("fuzz", "<input>", fuzz::bytes_of(data, size));
  } catch (const Error&) {
    return 0;  // rejected cleanly
  }
  std::string saved;
  try {
    saved = io::detail::write_checkpoint(loaded);
  } catch (const ValueError&) {
    return 0;  // a metric name the writer refuses (a comma cannot come from a parsed file; empty can)
  }
  const io::detail::CheckpointArrays again = io::detail::parse_checkpoint("fuzz", "<saved>", saved);
  fuzz::expect_same(loaded.model, again.model);
  if (loaded.optimizer.size() != again.optimizer.size()) fuzz::finding("a round trip changed the optimizer state");
  if (loaded.texts != again.texts) fuzz::finding("a round trip changed the texts");
  if (loaded.history.size() != again.history.size()) fuzz::finding("a round trip changed the history");
  for (const auto& [key, v] : loaded.numbers) {
    const auto it = again.numbers.find(key);
    if (it == again.numbers.end() || !(it->second == v || (v != v && it->second != it->second)))
      fuzz::finding("a round trip changed a number");
  }
  return 0;
}
