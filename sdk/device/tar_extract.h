#ifndef UPDRAFT_SDK_DEVICE_TAR_EXTRACT_H_
#define UPDRAFT_SDK_DEVICE_TAR_EXTRACT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace updraft::device {

// What an extraction wrote.
struct ExtractStats {
  int files = 0;
  int directories = 0;
  int links = 0;
  int64_t bytes = 0;
};

// Extracts a tar archive (plain or gzip) into the existing directory
// `dest_dir` (libarchive reader; the writing is done here, through directory
// file descriptors, never following a symlink). Refused, as
// INVALID_ARGUMENT with result code PACKAGE_VALIDATION_FAILED:
//   - absolute paths and any ".." component;
//   - entries under a top-level directory named in `reserved`;
//   - entries that would be written through a symlink or over a directory;
//   - symlinks whose target is absolute or leaves the tree (".." is allowed
//     only as a leading run no deeper than the link's own directory);
//   - hard links to anything but a regular file already in the tree;
//   - devices, FIFOs, sockets and other non-regular entries.
// A malformed archive is DATA_LOSS (PACKAGE_VALIDATION_FAILED); a file
// system error keeps its errno status (INSTALL_FAILED, or
// INSTALL_OUT_OF_MEMORY when the disk is full). On error `dest_dir` holds a
// partial tree the caller discards. Nothing is fsynced: the caller syncs.
absl::StatusOr<ExtractStats> ExtractTarSafely(const std::string& archive_path,
                                              const std::string& dest_dir,
                                              const std::vector<std::string>& reserved = {});

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_TAR_EXTRACT_H_
