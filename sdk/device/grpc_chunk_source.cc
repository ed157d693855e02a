#include "sdk/device/grpc_chunk_source.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_util.h"

namespace updraft::device {

absl::Status GrpcChunkSource::Stream(const v1::ArtifactManifest& manifest, uint32_t first_chunk,
                                     Sink sink) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  v1::FetchRequest request;
  request.set_sha256(manifest.sha256());
  request.set_offset(static_cast<int64_t>(first_chunk) * manifest.chunk_size());
  std::unique_ptr<grpc::ClientReaderInterface<v1::Chunk>> reader = stub_->Fetch(&ctx, request);
  v1::Chunk chunk;
  while (reader->Read(&chunk)) {
    absl::Status s = sink(chunk.index(), chunk.offset(), chunk.data());
    if (!s.ok()) {
      ctx.TryCancel();
      reader->Finish().IgnoreError();
      return s;
    }
  }
  return FromGrpcStatus(reader->Finish());
}

}  // namespace updraft::device
