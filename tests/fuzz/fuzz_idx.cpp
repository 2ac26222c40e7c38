// libFuzzer target: data::detail::parse_idx (plain and gzip IDX files).
#include "fuzz_common.hpp"
#include "idx_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xgrad;
  try {
    const Array values = data::detail::parse_idx("fuzz", "<input>", fuzz::bytes_of(data, size));
    // (empty arrays exempt from the contiguity check: see fuzz_common.hpp)
    if (values.dim() < 1 || (values.numel() != 0 && !values.is_contiguous()))
      fuzz::finding("parse_idx returned a malformed array");
  } catch (const Error&) {
    return 0;  // rejected cleanly
  }
  return 0;
}
