#ifndef UPDRAFT_SERVICES_DOWNLOAD_GRPC_DOWNLOAD_SERVICE_H_
#define UPDRAFT_SERVICES_DOWNLOAD_GRPC_DOWNLOAD_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "common/token.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"
#include "services/download/download_service.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::download {

// gRPC adapter of DownloadService (v1.Download). Fetch needs a device access
// token ("authorization: Bearer <token>"); Upload (role publisher) and
// GetManifest (role viewer) are management RPCs and need an operator token
// (common/operator_auth.h). Stops reading or writing
// as soon as the client cancels. Business metrics go to `registry`:
// updraft_download_bytes_served_total, updraft_download_chunks_served_total
// and updraft_download_uploads_total{result}, where result is one of created,
// existing, rejected (bad input), cancelled, failed.
class GrpcDownloadService final : public v1::Download::Service {
 public:
  // All must outlive the adapter; `operator_verifier` has audience
  // kOperatorAudience.
  GrpcDownloadService(DownloadService* service, prometheus::Registry* registry,
                      TokenVerifier* operator_verifier);

  grpc::Status Upload(grpc::ServerContext* context, grpc::ServerReader<v1::UploadRequest>* reader,
                      v1::ArtifactManifest* response) override;
  grpc::Status GetManifest(grpc::ServerContext* context, const v1::GetManifestRequest* request,
                           v1::ArtifactManifest* response) override;
  grpc::Status Fetch(grpc::ServerContext* context, const v1::FetchRequest* request,
                     grpc::ServerWriter<v1::Chunk>* writer) override;

 private:
  absl::StatusOr<v1::ArtifactManifest> DoUpload(grpc::ServerContext* context,
                                                grpc::ServerReader<v1::UploadRequest>* reader,
                                                bool* already_present);
  void CountUpload(const absl::Status& status, bool already_present);

  DownloadService* service_;
  TokenVerifier* operator_verifier_;
  prometheus::Counter* bytes_served_;
  prometheus::Counter* chunks_served_;
  prometheus::Family<prometheus::Counter>* uploads_;
};

}  // namespace updraft::download

#endif  // UPDRAFT_SERVICES_DOWNLOAD_GRPC_DOWNLOAD_SERVICE_H_
