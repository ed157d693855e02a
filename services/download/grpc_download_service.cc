#include "services/download/grpc_download_service.h"

#include <memory>

#include "absl/time/clock.h"
#include "common/device_auth.h"
#include "common/operator_auth.h"
#include "common/status_util.h"
#include "services/download/chunk_wire.h"

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
  resumes_ = &prometheus::BuildCounter()
                  .Name("updraft_download_resumes_total")
                  .Help("Fetches accepted from an offset past 0 (resumed downloads).")
                  .Register(*registry)
                  .Add({});
  active_ = &prometheus::BuildGauge()
                 .Name("updraft_download_active_fetches")
                 .Help("Fetch streams open now on this replica.")
                 .Register(*registry)
                 .Add({});
  chunk_seconds_ = &prometheus::BuildHistogram()
                        .Name("updraft_download_chunk_seconds")
                        .Help(
                            "Per chunk, from reading it until gRPC took it (includes waiting "
                            "for the device's flow-control window).")
                        .Register(*registry)
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                     0.5, 1, 2.5, 5, 10, 30});
  fetches_ = &prometheus::BuildCounter()
                  .Name("updraft_download_fetches_total")
                  .Help("Fetch streams by result: completed, cancelled, refused, failed.")
                  .Register(*registry);
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

absl::StatusOr<std::unique_ptr<FetchStream>> GrpcDownloadService::StartFetch(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  UPDRAFT_ASSIGN_OR_RETURN(std::string device_id,
                           AuthenticateDevice(*context, service_->verifier()));
  grpc::ByteBuffer copy(*request);  // shares the slices
  v1::FetchRequest fetch;
  if (!grpc::SerializationTraits<v1::FetchRequest>::Deserialize(&copy, &fetch).ok()) {
    return absl::InvalidArgumentError("FetchRequest does not parse");
  }
  UPDRAFT_ASSIGN_OR_RETURN(std::unique_ptr<FetchStream> stream,
                           service_->Fetch(device_id, fetch.sha256(), fetch.offset()));
  if (fetch.offset() > 0) resumes_->Increment();
  return stream;
}

// Streams one FetchStream: reads a chunk into a fresh slice laid out as a
// serialised v1::Chunk, writes it, and reads the next one only when gRPC
// reports the write done.
class GrpcDownloadService::FetchReactor : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  FetchReactor(GrpcDownloadService* owner, grpc::CallbackServerContext* context,
               std::unique_ptr<FetchStream> stream)
      : owner_(owner), context_(context), stream_(std::move(stream)) {
    owner_->active_->Increment();
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      End(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"), "cancelled");
      return;
    }
    owner_->chunk_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - read_started_));
    owner_->chunks_served_->Increment();
    owner_->bytes_served_->Increment(static_cast<double>(pending_bytes_));
    WriteNext();
  }

  void OnDone() override {
    owner_->active_->Decrement();
    delete this;
  }

 private:
  void WriteNext() {
    buffer_.Clear();  // drop the previous chunk before reading the next
    if (context_->IsCancelled()) {
      End(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"), "cancelled");
      return;
    }
    read_started_ = absl::Now();
    grpc_slice slice = grpc_empty_slice();
    absl::StatusOr<bool> more = stream_->NextInto([&](const ChunkRef& ref) {
      const size_t header = ChunkHeaderSize(ref.index, ref.offset, *ref.sha256, ref.length);
      slice = grpc_slice_malloc(header + ref.length);
      char* start = reinterpret_cast<char*>(GRPC_SLICE_START_PTR(slice));
      EncodeChunkHeader(ref.index, ref.offset, *ref.sha256, ref.length, start);
      pending_bytes_ = ref.length;
      return absl::MakeSpan(start + header, ref.length);
    });
    grpc::Slice owned(slice, grpc::Slice::STEAL_REF);
    if (!more.ok()) {
      End(ToGrpcStatus(more.status()), "failed");
      return;
    }
    if (!*more) {
      End(grpc::Status::OK, "completed");
      return;
    }
    buffer_ = grpc::ByteBuffer(&owned, 1);
    StartWrite(&buffer_);
  }

  void End(const grpc::Status& status, const char* result) {
    buffer_.Clear();
    stream_.reset();  // frees the device's concurrency slot at once
    owner_->fetches_->Add({{"result", result}}).Increment();
    Finish(status);
  }

  GrpcDownloadService* owner_;
  grpc::CallbackServerContext* context_;
  std::unique_ptr<FetchStream> stream_;
  grpc::ByteBuffer buffer_;
  size_t pending_bytes_ = 0;
  absl::Time read_started_;
};

grpc::ServerWriteReactor<grpc::ByteBuffer>* GrpcDownloadService::Fetch(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  absl::StatusOr<std::unique_ptr<FetchStream>> stream = StartFetch(context, request);
  if (!stream.ok()) {
    fetches_->Add({{"result", "refused"}}).Increment();
    // A reactor that only reports the refusal.
    class Refusal : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
     public:
      explicit Refusal(const grpc::Status& status) { Finish(status); }
      void OnDone() override { delete this; }
    };
    return new Refusal(ToGrpcStatus(stream.status()));
  }
  return new FetchReactor(this, context, *std::move(stream));
}

}  // namespace updraft::download
