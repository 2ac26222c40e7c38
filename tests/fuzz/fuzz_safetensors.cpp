// libFuzzer target: io::detail::parse_safetensors, then a save/load round trip of what loaded.
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xgrad;
  io::detail::SafetensorsArrays loaded;
  try {
    loaded = io::detail::parse_safetensors("fuzz", "<input>", fuzz::bytes_of(data, size));
  } catch (const Error&) {
    return 0;  // rejected cleanly
  }
  // Outside the try: whatever loaded must save, and load back the same (F16/BF16 as F32, ...).
  const std::string saved = io::detail::write_safetensors("fuzz", loaded.arrays, loaded.metadata);
  const io::detail::SafetensorsArrays again = io::detail::parse_safetensors("fuzz", "<saved>", saved);
  fuzz::expect_same(loaded.arrays, again.arrays);
  if (loaded.metadata != again.metadata) fuzz::finding("a round trip changed the metadata");
  return 0;
}
