#ifndef UPDRAFT_COMMON_DOWNLOAD_GRANT_KEY_H_
#define UPDRAFT_COMMON_DOWNLOAD_GRANT_KEY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace updraft {

// The Redis key of a download grant:
// "<prefix>download-grant:<device_id>:<sha256>". The catalog writes it when it
// offers an artifact to a device; the download service reads it before
// serving that artifact. Both build it here so they cannot drift apart.
std::string DownloadGrantKey(absl::string_view prefix, absl::string_view device_id,
                             absl::string_view sha256_hex);

}  // namespace updraft

#endif  // UPDRAFT_COMMON_DOWNLOAD_GRANT_KEY_H_
