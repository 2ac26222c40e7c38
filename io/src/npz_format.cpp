// NumPy's .npz format on Arrays: a zip archive of .npy members (see xgrad/io/npz.hpp). Reading
// trusts nothing: the central directory is the authority for sizes and CRCs, every offset is
// checked against the bytes that hold it, members may not overlap (the "overlapping files" zip
// bomb), and inflated data grows with what the stream really produces, up to the declared size
// (itself at most deflate's 1032:1 ratio over the compressed size), so a forged size costs nothing.
#include <algorithm>
#include <set>

#include <zlib.h>

#include "format.hpp"

namespace xgrad::io::detail {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;
constexpr size_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22, kZip64LocatorSize = 20, kZip64EndSize = 56;
constexpr uint64_t kMaxDeflateRatio = 1032;  // deflate's best: 258 bytes from one match of ~2 bits
constexpr uint16_t kStored = 0, kDeflate = 8;
constexpr uint16_t kDosDate1980 = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: reproducible archives

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%08llX", static_cast<unsigned long long>(v));
  return buf;
}

// Little-endian fields of the archive, read only after a bounds check.
class Zip {
 public:
  explicit Zip(std::string_view b) : b_(b) {}
  uint64_t size() const { return b_.size(); }
  // [at, at + n) lies inside [0, limit)
  static bool fits(uint64_t at, uint64_t n, uint64_t limit) { return at <= limit && n <= limit - at; }
  uint64_t le(uint64_t at, int bytes) const {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= uint64_t{static_cast<unsigned char>(b_[at + static_cast<uint64_t>(i)])} << (8 * i);
    return v;
  }
  uint16_t u16(uint64_t at) const { return static_cast<uint16_t>(le(at, 2)); }
  uint32_t u32(uint64_t at) const { return static_cast<uint32_t>(le(at, 4)); }
  uint64_t u64(uint64_t at) const { return le(at, 8); }
  std::string_view view(uint64_t at, uint64_t n) const { return b_.substr(at, n); }

 private:
  std::string_view b_;
};

struct Member {
  std::string name;
  uint16_t flags, method;
  uint32_t crc;
  uint64_t compressed, uncompressed, local_offset;
  uint64_t data_offset = 0;  // from the local header
};

struct Directory {
  uint64_t entries, offset, size;
  uint64_t limit;  // the directory must end here: the end record (or the zip64 one)
};

Directory find_directory(const Context& ctx, const Zip& zip) {
  if (zip.size() < kEndSize)
    ctx.fail("a file of " + std::to_string(zip.size()) + " bytes is too short for a zip archive");
  // The end record sits at the end, followed only by its own comment (at most 65535 bytes).
  uint64_t end = 0;
  bool found = false;
  const uint64_t lowest = zip.size() >= kEndSize + 0xFFFF ? zip.size() - kEndSize - 0xFFFF : 0;
  for (uint64_t at = zip.size() - kEndSize + 1; at-- > lowest;) {
    if (zip.u32(at) == kEndSig && at + kEndSize + zip.u16(at + 20) == zip.size()) {
      end = at;
      found = true;
      break;
    }
  }
  if (!found) ctx.fail("no end of central directory record: not a zip archive, or truncated");
  const uint16_t disk = zip.u16(end + 4), directory_disk = zip.u16(end + 6);
  Directory d{zip.u16(end + 10), zip.u32(end + 16), zip.u32(end + 12), end};
  if (disk != 0 || directory_disk != 0 || zip.u16(end + 8) != d.entries)
    ctx.fail("a multi-disk (spanned) archive, which is not supported");
  if (d.entries == 0xFFFF || d.offset == 0xFFFFFFFF || d.size == 0xFFFFFFFF) {  // zip64: the real values elsewhere
    if (end < kZip64LocatorSize || zip.u32(end - kZip64LocatorSize) != kZip64LocatorSig)
      ctx.fail("the end record defers to a zip64 record, but no zip64 locator precedes it");
    const uint64_t record = zip.u64(end - kZip64LocatorSize + 8);
    if (!Zip::fits(record, kZip64EndSize, end - kZip64LocatorSize) || zip.u32(record) != kZip64EndSig)
      ctx.fail("the zip64 locator points to " + std::to_string(record) + ", where no zip64 end record is");
    if (zip.u32(record + 16) != 0 || zip.u32(record + 20) != 0 || zip.u64(record + 24) != zip.u64(record + 32))
      ctx.fail("a multi-disk (spanned) archive, which is not supported");
    d = {zip.u64(record + 32), zip.u64(record + 48), zip.u64(record + 40), record};
  }
  if (!Zip::fits(d.offset, d.size, d.limit))
    ctx.fail("the central directory [" + std::to_string(d.offset) + ", +" + std::to_string(d.size) +
             ") runs past its end record at " + std::to_string(d.limit));
  if (d.entries > d.size / kCentralSize)
    ctx.fail("the central directory claims " + std::to_string(d.entries) + " entries but holds " +
             std::to_string(d.size) + " bytes");
  return d;
}

// Sizes and the local offset saturated at 0xFFFFFFFF come from the zip64 extra field (id 1), in
// this order, each present only when saturated.
void read_zip64_extra(const Context& ctx, const Zip& zip, uint64_t at, uint64_t n, Member& m) {
  const bool need[3] = {m.uncompressed == 0xFFFFFFFF, m.compressed == 0xFFFFFFFF, m.local_offset == 0xFFFFFFFF};
  uint64_t* fields[3] = {&m.uncompressed, &m.compressed, &m.local_offset};
  if (!need[0] && !need[1] && !need[2]) return;
  for (uint64_t p = at; p + 4 <= at + n;) {
    const uint16_t id = zip.u16(p), len = zip.u16(p + 2);
    if (!Zip::fits(p + 4, len, at + n)) break;
    if (id == 1) {
      uint64_t q = p + 4;
      for (int i = 0; i < 3; ++i) {
        if (!need[i]) continue;
        if (q + 8 > p + 4 + len) ctx.fail("the zip64 extra field is too short for the sizes it must hold");
        *fields[i] = zip.u64(q);
        q += 8;
      }
      return;
    }
    p += 4 + uint64_t{len};
  }
  ctx.fail("sizes saturated at 0xFFFFFFFF but no zip64 extra field holds the real ones");
}

std::vector<Member> read_directory(const Context& ctx, const Zip& zip, const Directory& d) {
  std::vector<Member> members;
  uint64_t p = d.offset;
  const uint64_t directory_end = d.offset + d.size;
  for (uint64_t i = 0; i < d.entries; ++i) {
    const std::string which = "central directory entry " + std::to_string(i);
    if (!Zip::fits(p, kCentralSize, directory_end) || zip.u32(p) != kCentralSig)
      ctx.fail(which + " at " + std::to_string(p) + " is missing or damaged");
    const uint64_t name_len = zip.u16(p + 28), extra_len = zip.u16(p + 30), comment_len = zip.u16(p + 32);
    if (!Zip::fits(p + kCentralSize, name_len + extra_len + comment_len, directory_end))
      ctx.fail(which + " runs past the end of the central directory");
    Member m{std::string(zip.view(p + kCentralSize, name_len)),
             zip.u16(p + 8),
             zip.u16(p + 10),
             zip.u32(p + 16),
             zip.u32(p + 20),
             zip.u32(p + 24),
             zip.u32(p + 42)};
    read_zip64_extra(ctx.entry("member '" + m.name + "'"), zip, p + kCentralSize + name_len, extra_len, m);
    members.push_back(std::move(m));
    p += kCentralSize + name_len + extra_len + comment_len;
  }
  if (p != directory_end)
    ctx.fail("the central directory holds " + std::to_string(directory_end - p) + " bytes after its " +
             std::to_string(d.entries) + " entries");
  return members;
}

// Finds each member's data through its local header, and rejects members that overlap.
void locate_data(const Context& ctx, const Zip& zip, const Directory& d, std::vector<Member>& members) {
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // [local header, data end) of each member
  for (Member& m : members) {
    const Context mctx = ctx.entry("member '" + m.name + "'");
    if (!Zip::fits(m.local_offset, kLocalSize, d.offset) || zip.u32(m.local_offset) != kLocalSig)
      mctx.fail("no local header at offset " + std::to_string(m.local_offset));
    const uint64_t name_len = zip.u16(m.local_offset + 26), extra_len = zip.u16(m.local_offset + 28);
    m.data_offset = m.local_offset + kLocalSize + name_len + extra_len;
    if (!Zip::fits(m.local_offset + kLocalSize, name_len + extra_len, d.offset) ||
        zip.view(m.local_offset + kLocalSize, name_len) != m.name)
      mctx.fail("the local header names another member than the central directory");
    if (!Zip::fits(m.data_offset, m.compressed, d.offset))
      mctx.fail(std::to_string(m.compressed) + " bytes of data at offset " + std::to_string(m.data_offset) +
                " run past the start of the central directory at " + std::to_string(d.offset) + ": truncated?");
    spans.emplace_back(m.local_offset, m.data_offset + m.compressed);
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second)
      ctx.fail("members overlap: bytes [" + std::to_string(spans[i].first) + ", " +
               std::to_string(spans[i - 1].second) + ") belong to two of them");
}

std::string inflate_member(const Context& ctx, std::string_view in, uint64_t declared) {
  if (declared / kMaxDeflateRatio > in.size())
    ctx.fail("declares " + std::to_string(declared) + " bytes uncompressed from " + std::to_string(in.size()) +
             " compressed, more than deflate can produce");
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) ctx.fail("zlib could not initialise inflate");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&z};
  std::string out(static_cast<size_t>(std::min<uint64_t>(declared, 4 * uint64_t{in.size()} + 4096)), '\0');
  uint64_t produced = 0, fed = 0;
  unsigned char probe = 0;
  while (true) {
    if (produced == out.size() && out.size() < declared)  // grow with the data that really arrives
      out.resize(static_cast<size_t>(std::min<uint64_t>(declared, std::max<uint64_t>(2 * out.size(), 4096))));
    const bool probing = produced == out.size();  // every declared byte arrived: one more is an error
    z.next_out = probing ? &probe : reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = probing ? 1u : static_cast<uInt>(std::min<uint64_t>(out.size() - produced, 1u << 30));
    if (z.avail_in == 0 && fed < in.size()) {
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + fed));
      z.avail_in = static_cast<uInt>(std::min<uint64_t>(in.size() - fed, 1u << 30));
      fed += z.avail_in;
    }
    const uInt room = z.avail_out;
    const int rc = inflate(&z, Z_NO_FLUSH);
    if (probing && z.avail_out != room)
      ctx.fail("inflates to more than the " + std::to_string(declared) + " bytes its directory entry declares");
    produced += room - z.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT)
      ctx.fail(std::string("corrupt deflate data: ") + (z.msg ? z.msg : "invalid stream"));
    if (rc == Z_MEM_ERROR) ctx.fail("zlib ran out of memory");
    // Output room is never 0, so no progress means the input ran out before the stream's end.
    if (rc == Z_BUF_ERROR) ctx.fail("truncated deflate data (the stream ends early)");
  }
  if (produced != declared)
    ctx.fail("inflates to " + std::to_string(produced) + " bytes but its directory entry declares " +
             std::to_string(declared));
  out.resize(static_cast<size_t>(produced));
  return out;
}

uint32_t crc_of(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t done = 0; done < data.size();) {
    const auto chunk = static_cast<uInt>(std::min<size_t>(data.size() - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + done), chunk);
    done += chunk;
  }
  return static_cast<uint32_t>(crc);
}

std::string deflate_raw(std::string_view who, std::string_view in) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw IOError(std::string(who) + ": zlib could not initialise deflate");
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw IOError(std::string(who) + ": zlib deflate failed (" + std::to_string(rc) + ")");
  return out;
}

void put(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace

std::string write_npz(std::string_view who, const NamedArrays& arrays, bool compressed) {
  const auto fail = [&](const std::string& what) { throw ValueError(std::string(who) + ": " + what); };
  std::set<std::string_view> names;
  std::string out, directory;
  for (const auto& [name, a] : arrays) {
    if (!a.defined()) fail("tensor '" + name + "' is undefined");
    if (!names.insert(name).second) fail("tensor '" + name + "' appears twice");
    const std::string member = name + ".npy";
    if (member.size() > 0xFFFF) fail("tensor name '" + name.substr(0, 64) + "...' is too long for a zip archive");
    const std::string npy = write_npy(a);
    const std::string packed = compressed ? deflate_raw(who, npy) : std::string();
    const std::string_view data = compressed ? std::string_view(packed) : std::string_view(npy);
    const uint64_t offset = out.size();
    if (npy.size() >= 0xFFFFFFFF || offset + data.size() >= 0xFFFFFFFF)
      fail("archives over 4 GiB are not supported by the npz writer (use safetensors)");
    const bool utf8 =
        std::any_of(member.begin(), member.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    const uint16_t flags = utf8 ? 1u << 11 : 0u;  // bit 11: the name is UTF-8
    const uint32_t crc = crc_of(npy);
    auto common = [&](std::string& s) {  // the fields local header and directory entry share
      put(s, 20, 2);                     // version needed: 2.0
      put(s, flags, 2);
      put(s, compressed ? kDeflate : kStored, 2);
      put(s, 0, 2);  // time 00:00:00
      put(s, kDosDate1980, 2);
      put(s, crc, 4);
      put(s, data.size(), 4);
      put(s, npy.size(), 4);
      put(s, member.size(), 2);
      put(s, 0, 2);  // extra field length
    };
    put(out, kLocalSig, 4);
    common(out);
    out += member;
    out += data;
    put(directory, kCentralSig, 4);
    put(directory, (3 << 8) | 20, 2);  // made by: Unix, 2.0 (so the external attributes are file modes)
    common(directory);
    put(directory, 0, 2);               // comment length
    put(directory, 0, 2);               // disk
    put(directory, 0, 2);               // internal attributes
    put(directory, 0100644u << 16, 4);  // external attributes: a regular file, rw-r--r--
    put(directory, offset, 4);
    directory += member;
  }
  if (arrays.size() >= 0xFFFF || out.size() + directory.size() >= 0xFFFFFFFF)
    fail("archives over 4 GiB or 65535 members are not supported by the npz writer (use safetensors)");
  const uint64_t directory_offset = out.size();
  out += directory;
  put(out, kEndSig, 4);
  put(out, 0, 2);
  put(out, 0, 2);
  put(out, arrays.size(), 2);
  put(out, arrays.size(), 2);
  put(out, directory.size(), 4);
  put(out, directory_offset, 4);
  put(out, 0, 2);  // comment length
  return out;
}

NamedArrays parse_npz(std::string_view who, std::string_view source, std::string_view bytes) {
  const Context ctx(who, source);
  const Zip zip(bytes);
  const Directory d = find_directory(ctx, zip);
  std::vector<Member> members = read_directory(ctx, zip, d);
  std::set<std::string> names;
  for (const Member& m : members) {
    const Context mctx = ctx.entry("member '" + m.name + "'");
    if (m.flags & 0x41) mctx.fail("is encrypted, which is not supported");
    if (m.method != kStored && m.method != kDeflate)
      mctx.fail("compression method " + std::to_string(m.method) + " is not supported (stored and deflate are)");
    if (m.name.size() < 4 || m.name.compare(m.name.size() - 4, 4, ".npy") != 0)
      mctx.fail("is not a .npy file (an .npz archive holds only <name>.npy members)");
    if (!names.insert(m.name).second) mctx.fail("appears twice in the archive");
    if (m.method == kStored && m.compressed != m.uncompressed)
      mctx.fail("is stored uncompressed but its sizes differ (" + std::to_string(m.compressed) + " and " +
                std::to_string(m.uncompressed) + ")");
  }
  locate_data(ctx, zip, d, members);
  NamedArrays out;
  for (const Member& m : members) {
    const Context mctx = ctx.entry("member '" + m.name + "'");
    const std::string_view raw = zip.view(m.data_offset, m.compressed);
    std::string inflated;
    if (m.method == kDeflate) inflated = inflate_member(mctx, raw, m.uncompressed);
    const std::string_view data = m.method == kDeflate ? std::string_view(inflated) : raw;
    const uint32_t crc = crc_of(data);
    if (crc != m.crc) mctx.fail("CRC-32 " + hex(crc) + " of the data differs from the recorded " + hex(m.crc));
    out.emplace_back(m.name.substr(0, m.name.size() - 4), parse_npy(mctx, data));
  }
  return out;
}

}  // namespace xgrad::io::detail
