#ifndef UPDRAFT_SERVICES_CATALOG_DOWNLOAD_MANIFEST_SOURCE_H_
#define UPDRAFT_SERVICES_CATALOG_DOWNLOAD_MANIFEST_SOURCE_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "services/catalog/manifest_source.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::catalog {

// ManifestSource over the download service's GetManifest RPC.
class DownloadManifestSource : public ManifestSource {
 public:
  explicit DownloadManifestSource(std::unique_ptr<v1::Download::StubInterface> stub,
                                  absl::Duration timeout = absl::Seconds(10));
  absl::StatusOr<v1::ArtifactManifest> GetManifest(const std::string& sha256) override;

 private:
  std::unique_ptr<v1::Download::StubInterface> stub_;
  const absl::Duration timeout_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_DOWNLOAD_MANIFEST_SOURCE_H_
