#ifndef UPDRAFT_SDK_DEVICE_GRPC_CHUNK_SOURCE_H_
#define UPDRAFT_SDK_DEVICE_GRPC_CHUNK_SOURCE_H_

#include <string>

#include "absl/time/time.h"
#include "sdk/device/chunk_source.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::device {

// ChunkSource over Download.Fetch with the device's access token. The
// server's chunk index and offset are passed on unchanged (the Downloader
// checks them); the server's chunk hash is ignored.
class GrpcChunkSource : public ChunkSource {
 public:
  // `stub` is not owned.
  GrpcChunkSource(v1::Download::StubInterface* stub, std::string access_token,
                  absl::Duration deadline)
      : stub_(stub), token_(std::move(access_token)), deadline_(deadline) {}

  std::string name() const override { return "the download service"; }
  absl::Status Stream(const v1::ArtifactManifest& manifest, uint32_t first_chunk,
                      Sink sink) override;

 private:
  v1::Download::StubInterface* stub_;
  const std::string token_;
  const absl::Duration deadline_;
};

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_GRPC_CHUNK_SOURCE_H_
