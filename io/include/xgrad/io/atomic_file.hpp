#pragma once
// Whole-file reads, and writes that never leave a half-written file behind: the bytes go to a
// temporary file in the same folder (path + ".tmp.<pid>"), are flushed and fsync'ed, then
// renamed over `path` (atomic on POSIX), and the folder is fsync'ed so that the rename survives a
// crash. On any failure the temporary file is removed and `path` keeps its old contents.
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace xgrad::io {

// IOError naming the path and the system's reason (strerror) when anything fails.
void write_file_atomic(const std::string& path, std::string_view bytes);
// Streams what `write` produces. An exception thrown by `write` removes the temporary file and
// propagates unchanged; a failed write to the stream throws IOError.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

// The whole file; IOError naming the path for a missing file, a folder, or a read error.
std::string read_file(const std::string& path);

}  // namespace xgrad::io
