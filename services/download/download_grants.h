#ifndef UPDRAFT_SERVICES_DOWNLOAD_DOWNLOAD_GRANTS_H_
#define UPDRAFT_SERVICES_DOWNLOAD_DOWNLOAD_GRANTS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace updraft::download {

// Which artifacts a device may fetch: those of releases the catalog offered
// to it. The catalog records a grant per (device, artifact) when it answers
// CheckForUpdates; the download service only reads them. Implementations are
// thread-safe.
class DownloadGrants {
 public:
  virtual ~DownloadGrants() = default;
  // True when artifact `sha256_hex` was offered to `device_id` recently
  // enough; UNAVAILABLE when the grants cannot be read.
  virtual absl::StatusOr<bool> IsGranted(absl::string_view device_id,
                                         absl::string_view sha256_hex) = 0;
};

}  // namespace updraft::download

#endif  // UPDRAFT_SERVICES_DOWNLOAD_DOWNLOAD_GRANTS_H_
