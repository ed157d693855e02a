#ifndef UPDRAFT_SDK_DEVICE_FILE_UTIL_H_
#define UPDRAFT_SDK_DEVICE_FILE_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace updraft::device {

// Small POSIX file helpers for the device SDK, all reporting absl::Status.
// The SDK writes everything it must not lose through WriteFileAtomically, so
// that after a crash or power loss a file is either the old or the new
// version, never a mix.

// A status for a failed system call: ENOSPC -> RESOURCE_EXHAUSTED, ENOENT ->
// NOT_FOUND, EACCES/EPERM -> PERMISSION_DENIED, anything else INTERNAL. The
// message is "<what>: <strerror>".
absl::Status ErrnoStatus(int err, absl::string_view what);

// Writes `data` to "<path>.tmp", fsyncs it, renames it over `path` and fsyncs
// the directory.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view data,
                                 mode_t mode = 0644);

// The whole file; NOT_FOUND when it does not exist.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

absl::Status FsyncDirectory(const std::string& dir);

// mkdir -p with mode 0755.
absl::Status MakeDirectories(const std::string& path);

// rm -rf without following symlinks; OK when `path` does not exist.
absl::Status RemoveTree(const std::string& path);

// True when something (even a dangling symlink) exists at `path`.
bool PathExists(const std::string& path);

// The directory part of `path` ("." when there is none).
std::string DirName(const std::string& path);

// write()/pwrite() until everything is written.
absl::Status WriteAll(int fd, absl::string_view data, absl::string_view what);
absl::Status PwriteAll(int fd, absl::string_view data, int64_t offset, absl::string_view what);

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_FILE_UTIL_H_
