#ifndef UPDRAFT_SERVICES_CATALOG_MANIFEST_SOURCE_H_
#define UPDRAFT_SERVICES_CATALOG_MANIFEST_SOURCE_H_

#include <string>

#include "absl/status/statusor.h"
#include "updraft/v1/common.pb.h"

namespace updraft::catalog {

// Where the catalog finds an uploaded artifact's chunk manifest when a
// release is created; the manifest is copied into the release.
class ManifestSource {
 public:
  virtual ~ManifestSource() = default;
  // NOT_FOUND when the artifact was never uploaded; UNAVAILABLE when the
  // source cannot be reached.
  virtual absl::StatusOr<v1::ArtifactManifest> GetManifest(const std::string& sha256) = 0;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_MANIFEST_SOURCE_H_
