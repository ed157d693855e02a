#ifndef UPDRAFT_SERVICES_CATALOG_DOWNLOAD_MANIFEST_SOURCE_H_
#define UPDRAFT_SERVICES_CATALOG_DOWNLOAD_MANIFEST_SOURCE_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/operator_auth.h"
#include "services/catalog/manifest_source.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::catalog {

// ManifestSource over the download service's GetManifest RPC (a management
// RPC: the catalog sends its own operator token, from `credentials`, which
// needs the viewer role).
class DownloadManifestSource : public ManifestSource {
 public:
  // `credentials` (optional) must outlive the source.
  explicit DownloadManifestSource(std::unique_ptr<v1::Download::StubInterface> stub,
                                  absl::Duration timeout = absl::Seconds(10),
                                  OperatorTokenSource* credentials = nullptr);
  absl::StatusOr<v1::ArtifactManifest> GetManifest(const std::string& sha256) override;

 private:
  std::unique_ptr<v1::Download::StubInterface> stub_;
  const absl::Duration timeout_;
  OperatorTokenSource* credentials_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_DOWNLOAD_MANIFEST_SOURCE_H_
