// libFuzzer target: io::detail::parse_npz, then a save/load round trip of what loaded (stored or
// deflate, chosen by the input's last byte).
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xgrad;
  io::detail::NamedArrays loaded;
  try {
    loaded = io::detail::parse_npz("fuzz", "<input>", fuzz::bytes_of(data, size));
  } catch (const Error&) {
    return 0;  // rejected cleanly
  }
  const bool compressed = size > 0 && (data[size - 1] & 1);
  const std::string saved = io::detail::write_npz("fuzz", loaded, compressed);
  fuzz::expect_same(loaded, io::detail::parse_npz("fuzz", "<saved>", saved));
  return 0;
}
