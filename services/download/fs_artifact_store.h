#ifndef UPDRAFT_SERVICES_DOWNLOAD_FS_ARTIFACT_STORE_H_
#define UPDRAFT_SERVICES_DOWNLOAD_FS_ARTIFACT_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/download/artifact_store.h"

namespace updraft::download {

// ArtifactStore on a local or shared volume:
//   <root>/objects/<sha>       the artifact's bytes
//   <root>/manifests/<sha>.pb  its serialized ArtifactManifest
//   <root>/tmp/                uploads in progress
// An upload is written to a temp file, fsynced and renamed into objects/;
// the manifest is written the same way and linked into manifests/ last, so
// an artifact is visible only once both are durable. Each temp file is held
// under an exclusive flock while in use; Create removes the temp files nobody
// holds (left over from a crash), which is safe with several replicas
// sharing one volume.
class FsArtifactStore : public ArtifactStore {
 public:
  struct Options {
    std::string root;
  };

  static absl::StatusOr<std::unique_ptr<FsArtifactStore>> Create(Options options);

  absl::StatusOr<std::unique_ptr<ArtifactWriter>> BeginUpload() override;
  absl::StatusOr<v1::ArtifactManifest> GetManifest(absl::string_view sha256_hex) override;
  absl::StatusOr<std::unique_ptr<ArtifactReader>> OpenReader(absl::string_view sha256_hex) override;

  const std::string& root() const { return root_; }

 private:
  explicit FsArtifactStore(std::string root) : root_(std::move(root)) {}
  absl::Status RemoveAbandonedTempFiles();

  const std::string root_;
};

}  // namespace updraft::download

#endif  // UPDRAFT_SERVICES_DOWNLOAD_FS_ARTIFACT_STORE_H_
