// Atomic file writes through POSIX calls: std::ofstream cannot fsync, and without the fsyncs a
// crash right after the rename can leave an empty or partial file under the final name.
#include "xgrad/io/atomic_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <streambuf>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.hpp"

namespace xgrad::io {
namespace {

[[noreturn]] void fail(std::string_view who, const std::string& path, const std::string& what, int error) {
  throw IOError(std::string(who) + ": " + path + ": " + what + ": " + std::strerror(error));
}

bool write_all(int fd, const char* p, size_t n, int& error) {
  while (n > 0) {
    const ssize_t wrote = ::write(fd, p, std::min<size_t>(n, size_t{1} << 30));
    if (wrote < 0) {
      if (errno == EINTR) continue;
      error = errno;
      return false;
    }
    p += wrote;
    n -= static_cast<size_t>(wrote);
  }
  return true;
}

// An output stream buffer over a file descriptor that remembers the first write error.
class FdBuffer : public std::streambuf {
 public:
  explicit FdBuffer(int fd) : fd_(fd), buffer_(size_t{1} << 16) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (static_cast<size_t>(n) < buffer_.size()) return std::streambuf::xsputn(s, n);
    if (!drain() || !write_all(fd_, s, static_cast<size_t>(n), error_)) return 0;  // large writes skip the buffer
    return n;
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    if (error_) return false;
    const auto n = static_cast<size_t>(pptr() - pbase());
    if (n > 0 && !write_all(fd_, pbase(), n, error_)) return false;
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return true;
  }
  int fd_;
  int error_ = 0;
  std::vector<char> buffer_;
};

void write_atomic(std::string_view who, const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0) fail(who, path, "cannot create the temporary file " + tmp, errno);
  struct stat old {};
  if (::stat(path.c_str(), &old) == 0) (void)::fchmod(fd, old.st_mode & 07777);  // a replaced file keeps its mode
  const auto abandon = [&](const std::string& what, int error) {
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(who, path, what, error);
  };
  int write_error = 0;
  try {
    FdBuffer buffer(fd);
    std::ostream out(&buffer);
    write(out);
    out.flush();
    if (!out || buffer.error()) write_error = buffer.error() ? buffer.error() : EIO;
  } catch (...) {  // the writer's own exception, unchanged
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (write_error) abandon("write failed", write_error);
  if (::fsync(fd) != 0) abandon("fsync failed", errno);
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    fail(who, path, "close failed", error);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    fail(who, path, "cannot rename " + tmp + " over it", error);
  }
  // Make the rename itself durable. Some file systems cannot sync a folder (EINVAL): nothing to do there.
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::filesystem::path folder = parent.empty() ? std::filesystem::path(".") : parent;
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) fail(who, path, "written, but its folder cannot be opened to sync it", errno);
  if (::fsync(dir) != 0 && errno != EINVAL && errno != EROFS) {
    const int error = errno;
    ::close(dir);
    fail(who, path, "written, but syncing its folder failed", error);
  }
  ::close(dir);
}

}  // namespace

namespace detail {

void write_file(std::string_view who, const std::string& path, const std::function<void(std::ostream&)>& write) {
  write_atomic(who, path, write);
}

void write_file(std::string_view who, const std::string& path, std::string_view bytes) {
  write_atomic(who, path,
               [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

std::string read_file(std::string_view who, const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(who, path, "cannot open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    fail(who, path, "cannot stat", error);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    fail(who, path, "cannot read", EISDIR);
  }
  // Read straight into the string, sized from fstat; a file that grows meanwhile (or is not a
  // regular file) continues through a small chunk.
  std::string bytes(S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0, '\0');
  std::vector<char> chunk(size_t{1} << 16);
  size_t size = 0;
  while (true) {
    const bool direct = size < bytes.size();
    char* dst = direct ? bytes.data() + size : chunk.data();
    const size_t room = direct ? std::min<size_t>(bytes.size() - size, size_t{1} << 30) : chunk.size();
    const ssize_t got = ::read(fd, dst, room);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      fail(who, path, "read error", error);
    }
    if (got == 0) break;
    if (!direct) bytes.append(chunk.data(), static_cast<size_t>(got));
    size += static_cast<size_t>(got);
  }
  ::close(fd);
  bytes.resize(size);
  return bytes;
}

}  // namespace detail

void write_file_atomic(const std::string& path, std::string_view bytes) {
  detail::write_file("write_file_atomic", path, bytes);
}

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  write_atomic("write_file_atomic", path, write);
}

std::string read_file(const std::string& path) { return detail::read_file("read_file", path); }

}  // namespace xgrad::io
