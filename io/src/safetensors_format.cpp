// The safetensors format on Arrays (see xgrad/io/safetensors.hpp for the layout). The header is
// written by hand (a fixed key order, so files are reproducible byte for byte) and read with
// nlohmann::ordered_json, keeping the header's order; a parser callback catches repeated keys,
// which nlohmann would otherwise resolve silently to the last one.
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "format.hpp"

namespace xgrad::io::detail {
namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the limit of the reference implementation
constexpr int kMaxDepth = 16;                      // a valid header nests 3 deep
constexpr std::string_view kMetadataKey = "__metadata__";

struct DtypeName {
  std::string_view name;
  Elem elem;
};
constexpr std::array<DtypeName, 13> kDtypes = {{{"BOOL", Elem::Bool},
                                                {"U8", Elem::U8},
                                                {"I8", Elem::I8},
                                                {"U16", Elem::U16},
                                                {"I16", Elem::I16},
                                                {"U32", Elem::U32},
                                                {"I32", Elem::I32},
                                                {"U64", Elem::U64},
                                                {"I64", Elem::I64},
                                                {"F16", Elem::F16},
                                                {"BF16", Elem::BF16},
                                                {"F32", Elem::F32},
                                                {"F64", Elem::F64}}};

std::string_view dtype_string(Elem e) {
  for (const auto& d : kDtypes)
    if (d.elem == e) return d.name;
  return "?";
}

std::optional<Elem> parse_dtype(std::string_view name) {
  for (const auto& d : kDtypes)
    if (d.name == name) return d.elem;
  return std::nullopt;
}

// A JSON string literal; ValueError naming `what` when `s` is not UTF-8.
std::string quoted(std::string_view who, const std::string& s, const std::string& what) {
  try {
    return Json(s).dump();
  } catch (const nlohmann::json::exception&) {
    throw ValueError(std::string(who) + ": " + what + " is not valid UTF-8");
  }
}

uint64_t read_u64le(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

Json parse_header(const Context& ctx, std::string_view header) {
  std::vector<std::set<std::string>> open_objects;  // the keys seen in each object being parsed
  const Json::parser_callback_t callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth > kMaxDepth) ctx.fail("the header JSON nests deeper than " + std::to_string(kMaxDepth) + " levels");
    if (event == Json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == Json::parse_event_t::key) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second)
        ctx.fail(open_objects.size() == 1 ? "tensor '" + key + "' appears twice in the header"
                                          : "key '" + key + "' appears twice in one header entry");
    }
    return true;
  };
  // nlohmann stops at a NUL byte as at the end of input, ignoring what follows; JSON has no raw NUL.
  if (const size_t nul = header.find('\0'); nul != std::string_view::npos)
    ctx.fail("the header is not valid JSON: a NUL byte at offset " + std::to_string(nul));
  try {
    return Json::parse(header.begin(), header.end(), callback);
  } catch (const nlohmann::json::exception& e) {
    ctx.fail(std::string("the header is not valid JSON: ") + e.what());
  }
}

// A JSON number that is an integer in [0, 2^63 - 1].
std::optional<int64_t> non_negative(const Json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<int64_t>();
  return std::nullopt;
}

const Json& member(const Context& ctx, const Json& entry, const char* key) {
  const auto it = entry.find(key);
  if (it == entry.end()) ctx.fail(std::string("the entry has no \"") + key + "\"");
  return *it;
}

struct Entry {
  std::string name;
  Elem elem;
  Shape shape;
  int64_t begin, end;
};

Entry parse_entry(const Context& ctx, const std::string& name, const Json& entry, int64_t buffer_bytes) {
  if (!entry.is_object()) ctx.fail(std::string("the entry is a JSON ") + entry.type_name() + ", not an object");
  Entry out{name, Elem::F32, {}, 0, 0};

  const Json& dtype = member(ctx, entry, "dtype");
  if (!dtype.is_string()) ctx.fail(std::string("\"dtype\" is a JSON ") + dtype.type_name() + ", not a string");
  const auto elem = parse_dtype(dtype.get_ref<const std::string&>());
  if (!elem) {
    std::string known;
    for (const auto& d : kDtypes) known += (known.empty() ? "" : ", ") + std::string(d.name);
    ctx.fail("unknown dtype '" + shown(dtype.get_ref<const std::string&>()) + "' (known: " + known + ")");
  }
  out.elem = *elem;

  const Json& shape = member(ctx, entry, "shape");
  if (!shape.is_array()) ctx.fail(std::string("\"shape\" is a JSON ") + shape.type_name() + ", not an array");
  for (const Json& d : shape) {
    const auto size = non_negative(d);
    if (!size)
      ctx.fail("\"shape\" " + shown(shape.dump()) + " holds " + shown(d.dump()) + ", not a dim (an integer >= 0)");
    out.shape.push_back(*size);
  }
  const int64_t numel = checked_numel(ctx, out.shape, out.elem);
  const int64_t needed = numel * static_cast<int64_t>(elem_size(out.elem));

  const Json& offsets = member(ctx, entry, "data_offsets");
  if (!offsets.is_array() || offsets.size() != 2)
    ctx.fail("\"data_offsets\" " + shown(offsets.dump()) + " is not a pair [begin, end]");
  const auto begin = non_negative(offsets[0]), end = non_negative(offsets[1]);
  if (!begin || !end)
    ctx.fail("\"data_offsets\" " + shown(offsets.dump()) + " holds something else than integers >= 0");
  out.begin = *begin;
  out.end = *end;
  const std::string range = "data_offsets [" + std::to_string(out.begin) + ", " + std::to_string(out.end) + "]";
  if (out.begin > out.end) ctx.fail(range + " are reversed (begin after end)");
  if (out.end - out.begin != needed)
    ctx.fail(range + " give " + std::to_string(out.end - out.begin) + " bytes but " +
             std::string(dtype_string(out.elem)) + " " + list_string(out.shape) + " needs " + std::to_string(needed));
  if (out.end > buffer_bytes)
    ctx.fail(range + " run past the end of the data buffer (" + std::to_string(buffer_bytes) +
             " bytes): truncated file?");
  return out;
}

Metadata parse_metadata(const Context& ctx, const Json& meta) {
  if (!meta.is_object()) ctx.fail(std::string("\"__metadata__\" is a JSON ") + meta.type_name() + ", not an object");
  Metadata out;
  for (const auto& [key, value] : meta.items()) {
    if (!value.is_string())
      ctx.fail("\"__metadata__\" entry '" + key + "' is a JSON " + value.type_name() + ", not a string");
    out.emplace(key, value.get<std::string>());
  }
  return out;
}

// The tensors must tile the data buffer: sorted by offset, each starts where the previous ended,
// and the last ends at the buffer's end.
void check_coverage(const Context& ctx, const std::vector<Entry>& entries, int64_t buffer_bytes) {
  std::vector<const Entry*> sorted;
  for (const Entry& e : entries) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  int64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry* e : sorted) {
    if (e->begin < covered)
      ctx.entry("tensor '" + e->name + "'")
          .fail("data_offsets " + list_string({e->begin, e->end}) + " overlap those of tensor '" + previous->name +
                "' " + list_string({previous->begin, previous->end}));
    if (e->begin > covered)
      ctx.fail("bytes [" + std::to_string(covered) + ", " + std::to_string(e->begin) +
               ") of the data buffer belong to no tensor (a hole before tensor '" + e->name + "')");
    covered = e->end;
    previous = e;
  }
  if (covered != buffer_bytes)
    ctx.fail("the data buffer holds " + std::to_string(buffer_bytes) + " bytes but the tensors cover only " +
             std::to_string(covered) + " (trailing bytes)");
}

}  // namespace

std::string safetensors_header(std::string_view who, const NamedArrays& arrays, const Metadata& metadata) {
  std::set<std::string_view> names;
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [key, value] : metadata) {
      if (!first) header += ',';
      header += quoted(who, key, "metadata key '" + key + "'");
      header += ':';
      header += quoted(who, value, "the value of metadata key '" + key + "'");
      first = false;
    }
    header += "}";
  }
  int64_t offset = 0;
  for (const auto& [name, a] : arrays) {
    if (!a.defined()) throw ValueError(std::string(who) + ": tensor '" + name + "' is undefined");
    if (name == kMetadataKey)
      throw ValueError(std::string(who) + ": a tensor may not be named \"__metadata__\" (reserved for metadata)");
    if (!names.insert(name).second) throw ValueError(std::string(who) + ": tensor '" + name + "' appears twice");
    const Elem elem = elem_of(a.dtype());
    const int64_t bytes = a.numel() * static_cast<int64_t>(elem_size(elem));
    if (header.size() > 1) header += ',';
    header += quoted(who, name, "tensor name '" + name + "'");
    header += ":{\"dtype\":\"";
    header += dtype_string(elem);
    header += "\",\"shape\":[";
    for (size_t d = 0; d < a.shape().size(); ++d) {
      if (d) header += ',';
      header += std::to_string(a.shape()[d]);
    }
    header += "],\"data_offsets\":[";
    header += std::to_string(offset);
    header += ',';
    header += std::to_string(offset + bytes);
    header += "]}";
    offset += bytes;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // the data buffer starts 8-byte aligned
  const uint64_t n = header.size();
  return std::string(reinterpret_cast<const char*>(&n), 8) + header;  // little-endian host (codec.cpp)
}

std::string write_safetensors(std::string_view who, const NamedArrays& arrays, const Metadata& metadata) {
  std::string out = safetensors_header(who, arrays, metadata);
  size_t total = out.size();
  for (const auto& named : arrays) total += static_cast<size_t>(named.second.numel()) * itemsize(named.second.dtype());
  out.reserve(total);
  for (const auto& named : arrays) append_values(out, named.second);
  return out;
}

SafetensorsArrays parse_safetensors(std::string_view who, std::string_view source, std::string_view bytes) {
  const Context ctx(who, source);
  if (bytes.size() < 8)
    ctx.fail("a file of " + std::to_string(bytes.size()) +
             " bytes is too short for the 8-byte header length (not a safetensors file?)");
  const uint64_t n = read_u64le(bytes.data());
  if (n > kMaxHeaderBytes)
    ctx.fail("header length " + std::to_string(n) + " exceeds the limit of " + std::to_string(kMaxHeaderBytes) +
             " bytes (not a safetensors file?)");
  if (n > bytes.size() - 8)
    ctx.fail("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(bytes.size()) +
             " bytes): truncated file?");
  const std::string_view data = bytes.substr(8 + n);
  const auto buffer_bytes = static_cast<int64_t>(data.size());

  const Json header = parse_header(ctx, bytes.substr(8, n));
  if (!header.is_object()) ctx.fail(std::string("the header is a JSON ") + header.type_name() + ", not an object");

  SafetensorsArrays out;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey) {
      out.metadata = parse_metadata(ctx, value);
      continue;
    }
    entries.push_back(parse_entry(ctx.entry("tensor '" + key + "'"), key, value, buffer_bytes));
  }
  check_coverage(ctx, entries, buffer_bytes);
  out.arrays.reserve(entries.size());
  for (const Entry& e : entries)
    out.arrays.emplace_back(
        e.name, decode(ctx.entry("tensor '" + e.name + "'"), e.elem, false, data.data() + e.begin, e.shape));
  return out;
}

}  // namespace xgrad::io::detail
