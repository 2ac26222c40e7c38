// NumPy's .npy format on Arrays (see xgrad/io/npy.hpp). The header is a Python dict literal; we
// read the small subset numpy writes (string keys, a string, a bool and a tuple of integers)
// with a strict hand-written parser rather than anything that evaluates Python.
#include <cstring>
#include <optional>

#include "format.hpp"

namespace xgrad::io::detail {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr uint64_t kMaxHeaderBytes = 1 << 20;  // numpy itself refuses headers over 10000 bytes by default
constexpr size_t kAlign = 64;                  // numpy aligns the data to 64 bytes

struct Header {
  Elem elem = Elem::F32;
  bool big_endian = false;
  bool fortran_order = false;
  Shape shape;
};

// descr: a byte order ('<' little, '>' big, '=' native, '|' not applicable) and a type code.
std::optional<std::pair<Elem, bool>> parse_descr(std::string_view d) {
  if (d.size() < 2) return std::nullopt;
  const char order = d[0];
  const std::string_view code = d.substr(1);
  static constexpr std::pair<std::string_view, Elem> kCodes[] = {
      {"b1", Elem::Bool}, {"u1", Elem::U8},  {"i1", Elem::I8},  {"u2", Elem::U16},
      {"i2", Elem::I16},  {"u4", Elem::U32}, {"i4", Elem::I32}, {"u8", Elem::U64},
      {"i8", Elem::I64},  {"f2", Elem::F16}, {"f4", Elem::F32}, {"f8", Elem::F64}};
  for (const auto& [name, elem] : kCodes) {
    if (name != code) continue;
    if (order == '|' && elem_size(elem) == 1) return std::pair{elem, false};
    if (order == '<' || order == '=') return std::pair{elem, false};
    if (order == '>') return std::pair{elem, true};
    return std::nullopt;
  }
  return std::nullopt;
}

class DictParser {
 public:
  DictParser(const Context& ctx, std::string_view text) : ctx_(ctx), s_(text) {}

  Header parse() {
    Header h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (!eat('}')) {
      const std::string key = string_literal();
      expect(':');
      auto once = [&](bool& seen) {
        if (seen) fail("key '" + key + "' appears twice");
        seen = true;
      };
      if (key == "descr") {
        once(seen_descr);
        space();
        if (peek() == '[') fail("descr is a list: structured dtypes are not supported");
        const std::string descr = string_literal();
        const auto parsed = parse_descr(descr);
        if (!parsed) {
          const char code = descr.size() > 1 ? descr[1] : '?';
          ctx_.fail("unsupported descr '" + shown(descr) + "'" +
                    (code == 'O' ? std::string(" (object arrays hold pickled Python objects, which are not read)")
                                 : std::string(" (supported: b1, f2, f4, f8, i1, i2, i4, i8, u1, u2, u4, u8)")));
        }
        h.elem = parsed->first;
        h.big_endian = parsed->second;
      } else if (key == "fortran_order") {
        once(seen_order);
        h.fortran_order = boolean();
      } else if (key == "shape") {
        once(seen_shape);
        h.shape = tuple();
      } else {
        fail("unknown key '" + shown(key) + "'");
      }
      if (!eat(',')) {
        expect('}');
        break;
      }
    }
    space();
    if (pos_ != s_.size()) fail("unexpected text after the dict");
    if (!seen_descr || !seen_order || !seen_shape)
      fail(std::string("the dict lacks ") + (!seen_descr ? "'descr'" : !seen_order ? "'fortran_order'" : "'shape'"));
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    ctx_.fail("bad header: " + what + " at offset " + std::to_string(pos_) + " of \"" + shown(s_) + "\"");
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool eat(char c) {
    space();
    if (peek() != c || pos_ == s_.size()) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'");
  }
  std::string string_literal() {
    space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a string");
    const size_t end = s_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string value(s_.substr(pos_ + 1, end - pos_ - 1));
    if (value.find('\\') != std::string::npos) fail("escapes in strings are not supported");
    pos_ = end + 1;
    return value;
  }
  bool boolean() {
    space();
    for (const auto& [word, value] : {std::pair<std::string_view, bool>{"True", true}, {"False", false}}) {
      if (s_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    fail("expected True or False");
  }
  int64_t integer() {
    space();
    if (peek() < '0' || peek() > '9') fail("expected a dim (an integer >= 0)");
    int64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, peek() - '0', &v))
        fail("a dim overflows int64");
      ++pos_;
    }
    if (peek() == 'L') ++pos_;  // Python 2's long suffix, found in old files
    return v;
  }
  Shape tuple() {
    expect('(');
    Shape shape;
    if (eat(')')) return shape;
    while (true) {
      shape.push_back(integer());
      if (eat(')')) {
        if (shape.size() == 1) fail("a 1-tuple needs a trailing comma: (n,)");
        return shape;
      }
      expect(',');
      if (eat(')')) return shape;
    }
  }

  const Context& ctx_;
  std::string_view s_;
  size_t pos_ = 0;
};

const char* descr_of(DType t) {
  switch (t) {
    case DType::Bool: return "|b1";
    case DType::Int64: return "<i8";
    case DType::Float32: return "<f4";
    case DType::Float64: return "<f8";
  }
  return "?";
}

}  // namespace

std::string write_npy(const Array& a) {
  // Byte for byte what numpy 1.24 writes: sorted keys, repr() values, then room for the first
  // dim to grow to 21 digits, spaces up to a multiple of 64 and a newline.
  std::string dict = std::string("{'descr': '") + descr_of(a.dtype()) + "', 'fortran_order': False, 'shape': (";
  for (size_t d = 0; d < a.shape().size(); ++d) dict += (d ? ", " : "") + std::to_string(a.shape()[d]);
  dict += a.shape().size() == 1 ? ",), }" : "), }";
  if (!a.shape().empty()) dict.append(21 - std::to_string(a.shape()[0]).size(), ' ');
  int version = 1;
  size_t prefix = kMagic.size() + 2 + 2;
  size_t padding = kAlign - (prefix + dict.size() + 1) % kAlign;
  if (dict.size() + padding + 1 > 0xFFFF) {  // a header too long for version 1.0's uint16 length
    version = 2;
    prefix = kMagic.size() + 2 + 4;
    padding = kAlign - (prefix + dict.size() + 1) % kAlign;
  }
  const size_t header_len = dict.size() + padding + 1;
  std::string out(kMagic);
  out += static_cast<char>(version);
  out += '\0';
  for (size_t i = 0; i < (version == 1 ? 2u : 4u); ++i) out += static_cast<char>((header_len >> (8 * i)) & 0xFF);
  out += dict;
  out.append(padding, ' ');
  out += '\n';
  append_values(out, a);
  return out;
}

Array parse_npy(const Context& ctx, std::string_view b) {
  if (b.size() < kMagic.size() + 2 || b.substr(0, kMagic.size()) != kMagic)
    ctx.fail("not a .npy file (it does not start with \\x93NUMPY and a version)");
  const auto major = static_cast<unsigned char>(b[6]), minor = static_cast<unsigned char>(b[7]);
  if (major < 1 || major > 3 || minor != 0)
    ctx.fail("unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor) +
             " (1.0, 2.0 and 3.0 are read)");
  const size_t length_bytes = major == 1 ? 2 : 4;
  if (b.size() < 8 + length_bytes) ctx.fail("truncated in the header length");
  uint64_t header_len = 0;
  for (size_t i = 0; i < length_bytes; ++i) header_len |= uint64_t{static_cast<unsigned char>(b[8 + i])} << (8 * i);
  const size_t start = 8 + length_bytes;
  if (header_len > kMaxHeaderBytes)
    ctx.fail("header length " + std::to_string(header_len) + " exceeds the limit of " +
             std::to_string(kMaxHeaderBytes) + " bytes");
  if (header_len > b.size() - start)
    ctx.fail("header length " + std::to_string(header_len) + " runs past the end of the file (" +
             std::to_string(b.size()) + " bytes): truncated?");
  const Header h = DictParser(ctx, b.substr(start, header_len)).parse();

  const int64_t numel = checked_numel(ctx, h.shape, h.elem);
  const auto needed = static_cast<uint64_t>(numel) * elem_size(h.elem);
  const std::string_view data = b.substr(start + header_len);
  const std::string what = "shape " + list_string(h.shape) + " needs " + std::to_string(needed) + " bytes of data";
  if (data.size() < needed) ctx.fail(what + " but the file holds " + std::to_string(data.size()) + " (truncated?)");
  if (data.size() > needed) ctx.fail(what + " but the file holds " + std::to_string(data.size()) + " (trailing bytes)");
  if (!h.fortran_order) return decode(ctx, h.elem, h.big_endian, data.data(), h.shape);
  // Column-major: the values are the row-major values of the reversed shape; reverse the dims back.
  const Shape reversed(h.shape.rbegin(), h.shape.rend());
  Dims order;
  for (int64_t d = static_cast<int64_t>(h.shape.size()) - 1; d >= 0; --d) order.push_back(d);
  return decode(ctx, h.elem, h.big_endian, data.data(), reversed).permute(order).contiguous();
}

}  // namespace xgrad::io::detail
