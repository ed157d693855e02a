#ifndef UPDRAFT_SERVICES_DOWNLOAD_GRPC_DOWNLOAD_SERVICE_H_
#define UPDRAFT_SERVICES_DOWNLOAD_GRPC_DOWNLOAD_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "common/token.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/download/download_service.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::download {

// gRPC adapter of DownloadService (v1.Download). Fetch needs a device access
// token ("authorization: Bearer <token>"); Upload (role publisher) and
// GetManifest (role viewer) are management RPCs and need an operator token
// (common/operator_auth.h).
//
// Fetch is a raw callback (reactor) method: no thread waits on a slow
// device, and each chunk is read with pread straight into a pre-serialised
// message slice (chunk_wire.h), so the bytes are never copied by the
// service. The next chunk is read only once gRPC has taken the previous
// one, which happens as the device's HTTP/2 flow-control window allows: a
// stream holds at most one chunk, however slow its reader.
//
// Business metrics go to `registry`: updraft_download_bytes_served_total,
// updraft_download_chunks_served_total, updraft_download_active_fetches,
// updraft_download_chunk_seconds (from reading a chunk until gRPC took it),
// updraft_download_resumes_total (fetches from an offset > 0),
// updraft_download_fetches_total{result} (completed, cancelled, refused,
// failed) and updraft_download_uploads_total{result} (created, existing,
// rejected, cancelled, failed).
class GrpcDownloadService final
    : public v1::Download::WithRawCallbackMethod_Fetch<v1::Download::Service> {
 public:
  // All must outlive the adapter; `operator_verifier` has audience
  // kOperatorAudience.
  GrpcDownloadService(DownloadService* service, prometheus::Registry* registry,
                      TokenVerifier* operator_verifier);

  grpc::Status Upload(grpc::ServerContext* context, grpc::ServerReader<v1::UploadRequest>* reader,
                      v1::ArtifactManifest* response) override;
  grpc::Status GetManifest(grpc::ServerContext* context, const v1::GetManifestRequest* request,
                           v1::ArtifactManifest* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Fetch(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request) override;

 private:
  class FetchReactor;

  absl::StatusOr<std::unique_ptr<FetchStream>> StartFetch(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request);
  absl::StatusOr<v1::ArtifactManifest> DoUpload(grpc::ServerContext* context,
                                                grpc::ServerReader<v1::UploadRequest>* reader,
                                                bool* already_present);
  void CountUpload(const absl::Status& status, bool already_present);

  DownloadService* service_;
  TokenVerifier* operator_verifier_;
  prometheus::Counter* bytes_served_;
  prometheus::Counter* chunks_served_;
  prometheus::Counter* resumes_;
  prometheus::Gauge* active_;
  prometheus::Histogram* chunk_seconds_;
  prometheus::Family<prometheus::Counter>* fetches_;
  prometheus::Family<prometheus::Counter>* uploads_;
};

}  // namespace updraft::download

#endif  // UPDRAFT_SERVICES_DOWNLOAD_GRPC_DOWNLOAD_SERVICE_H_
