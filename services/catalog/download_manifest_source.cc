#include "services/catalog/download_manifest_source.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_util.h"

namespace updraft::catalog {

DownloadManifestSource::DownloadManifestSource(std::unique_ptr<v1::Download::StubInterface> stub,
                                               absl::Duration timeout,
                                               OperatorTokenSource* credentials)
    : stub_(std::move(stub)), timeout_(timeout), credentials_(credentials) {}

absl::StatusOr<v1::ArtifactManifest> DownloadManifestSource::GetManifest(
    const std::string& sha256) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  if (credentials_ != nullptr) {
    absl::Status authorized = credentials_->Authorize(&ctx);
    if (!authorized.ok()) {
      return absl::Status(authorized.code() == absl::StatusCode::kUnavailable
                              ? absl::StatusCode::kUnavailable
                              : absl::StatusCode::kFailedPrecondition,
                          absl::StrCat("the catalog cannot log in to fetch manifests (check its "
                                       "--api_key_file): ",
                                       authorized.message()));
    }
  }
  v1::GetManifestRequest request;
  request.set_sha256(sha256);
  v1::ArtifactManifest manifest;
  grpc::Status s = stub_->GetManifest(&ctx, request, &manifest);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    return absl::NotFoundError(
        absl::StrCat("artifact ", sha256, " is not uploaded to the download service"));
  }
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
      s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(
        absl::StrCat("download service unavailable: ", s.error_message()));
  }
  if (!s.ok()) {
    absl::Status status = FromGrpcStatus(s);
    return absl::Status(status.code(),
                        absl::StrCat("download service GetManifest: ", status.message()));
  }
  if (manifest.sha256() != sha256) {
    return absl::InternalError(absl::StrCat("download service answered with the manifest of ",
                                            manifest.sha256(), " for artifact ", sha256));
  }
  return manifest;
}

}  // namespace updraft::catalog
