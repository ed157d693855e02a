#include "services/download/grpc_download_service.h"

#include <memory>

#include "common/device_auth.h"
#include "common/operator_auth.h"
#include "common/status_util.h"

namespace updraft::download {

GrpcDownloadService::GrpcDownloadService(DownloadService* service, prometheus::Registry* registry,
                                         TokenVerifier* operator_verifier)
    : service_(service), operator_verifier_(operator_verifier) {
  bytes_served_ = &prometheus::BuildCounter()
                       .Name("updraft_download_bytes_served_total")
                       .Help("Artifact bytes sent to devices by Fetch.")
                       .Register(*registry)
                       .Add({});
  chunks_served_ = &prometheus::BuildCounter()
                        .Name("updraft_download_chunks_served_total")
                        .Help("Artifact chunks sent to devices by Fetch.")
                        .Register(*registry)
                        .Add({});
  uploads_ = &prometheus::BuildCounter()
                  .Name("updraft_download_uploads_total")
                  .Help(
                      "Finished uploads by result: created, existing, rejected, cancelled, "
                      "failed.")
                  .Register(*registry);
}

void GrpcDownloadService::CountUpload(const absl::Status& status, bool already_present) {
  const char* result = "failed";
  if (status.ok()) {
    result = already_present ? "existing" : "created";
  } else if (absl::IsInvalidArgument(status) || absl::IsOutOfRange(status)) {
    result = "rejected";
  } else if (absl::IsCancelled(status)) {
    result = "cancelled";
  }
  uploads_->Add({{"result", result}}).Increment();
}

absl::StatusOr<v1::ArtifactManifest> GrpcDownloadService::DoUpload(
    grpc::ServerContext* context, grpc::ServerReader<v1::UploadRequest>* reader,
    bool* already_present) {
  v1::UploadRequest request;
  if (!reader->Read(&request)) {
    if (context->IsCancelled()) return absl::CancelledError("client cancelled the upload");
    return absl::InvalidArgumentError("upload stream is empty; the first message must be a header");
  }
  if (!request.has_header()) {
    return absl::InvalidArgumentError("the first upload message must be a header");
  }
  UPDRAFT_ASSIGN_OR_RETURN(std::unique_ptr<UploadSession> session,
                           service_->BeginUpload(request.header()));
  while (reader->Read(&request)) {
    if (!request.has_data()) {
      return absl::InvalidArgumentError("only the first upload message may be a header");
    }
    UPDRAFT_RETURN_IF_ERROR(session->Append(request.data()));
  }
  // The session is discarded, with its staged bytes, on every early return.
  if (context->IsCancelled()) return absl::CancelledError("client cancelled the upload");
  absl::StatusOr<v1::ArtifactManifest> manifest = session->Finish();
  *already_present = session->already_present();
  return manifest;
}

grpc::Status GrpcDownloadService::Upload(grpc::ServerContext* context,
                                         grpc::ServerReader<v1::UploadRequest>* reader,
                                         v1::ArtifactManifest* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kPublisher, "Upload");
  if (!who.ok()) return ToGrpcStatus(who.status());
  bool already_present = false;
  absl::StatusOr<v1::ArtifactManifest> manifest = DoUpload(context, reader, &already_present);
  CountUpload(manifest.status(), already_present);
  if (!manifest.ok()) return ToGrpcStatus(manifest.status());
  *response = *std::move(manifest);
  return grpc::Status::OK;
}

grpc::Status GrpcDownloadService::GetManifest(grpc::ServerContext* context,
                                              const v1::GetManifestRequest* request,
                                              v1::ArtifactManifest* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kViewer, "GetManifest");
  if (!who.ok()) return ToGrpcStatus(who.status());
  absl::StatusOr<v1::ArtifactManifest> manifest = service_->GetManifest(request->sha256());
  if (!manifest.ok()) return ToGrpcStatus(manifest.status());
  *response = *std::move(manifest);
  return grpc::Status::OK;
}

grpc::Status GrpcDownloadService::Fetch(grpc::ServerContext* context,
                                        const v1::FetchRequest* request,
                                        grpc::ServerWriter<v1::Chunk>* writer) {
  absl::StatusOr<std::string> device = AuthenticateDevice(*context, service_->verifier());
  if (!device.ok()) return ToGrpcStatus(device.status());
  absl::StatusOr<std::unique_ptr<FetchStream>> stream =
      service_->Fetch(*device, request->sha256(), request->offset());
  if (!stream.ok()) return ToGrpcStatus(stream.status());
  v1::Chunk chunk;
  while (true) {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    absl::StatusOr<bool> more = (*stream)->Next(&chunk);
    if (!more.ok()) return ToGrpcStatus(more.status());
    if (!*more) return grpc::Status::OK;
    if (!writer->Write(chunk)) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    }
    chunks_served_->Increment();
    bytes_served_->Increment(static_cast<double>(chunk.data().size()));
  }
}

}  // namespace updraft::download
