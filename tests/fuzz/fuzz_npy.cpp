// libFuzzer target: io::detail::parse_npy, then a save/load round trip of what loaded.
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xgrad;
  Array loaded;
  try {
    loaded = io::detail::parse_npy(io::detail::Context("fuzz", "<input>"), fuzz::bytes_of(data, size));
  } catch (const Error&) {
    return 0;  // rejected cleanly
  }
  const std::string saved = io::detail::write_npy(loaded);
  fuzz::expect_same(loaded, io::detail::parse_npy(io::detail::Context("fuzz", "<saved>"), saved));
  return 0;
}
