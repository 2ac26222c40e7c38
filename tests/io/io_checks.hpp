#pragma once
// What the file format tests share: the bytes of a fixture in tests/data, and the hardening check.
#include <exception>
#include <string>

#include <gtest/gtest.h>

#include "xgrad/io/io.hpp"

namespace xgrad::io::testing {

// The bytes of tests/data/<name>.
inline std::string fixture(const std::string& name) { return read_file(std::string(XGRAD_TEST_DATA_DIR) + "/" + name); }

// A good file cut at every length must fail with FormatError, and the same file with any one byte
// flipped (three ways) must either load or fail with FormatError: no other exception, no crash.
template <typename Parse> void expect_every_cut_and_flip_fails_cleanly(const std::string& good, Parse parse) {
  for (size_t n = 0; n < good.size(); ++n) EXPECT_THROW(parse(good.substr(0, n)), FormatError) << "cut at " << n;
  for (size_t i = 0; i < good.size(); ++i) {
    for (int flip : {0x01, 0x80, 0xFF}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      try {
        parse(bad);
      } catch (const FormatError&) {
      } catch (const std::exception& e) {
        ADD_FAILURE() << "byte " << i << " ^ " << flip << ": " << e.what();
      }
    }
  }
}

}  // namespace xgrad::io::testing
