#ifndef UPDRAFT_SDK_DEVICE_CHUNK_SOURCE_H_
#define UPDRAFT_SDK_DEVICE_CHUNK_SOURCE_H_

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "updraft/v1/common.pb.h"

namespace updraft::device {

// One place an artifact's bytes can come from: the download service over
// gRPC (GrpcChunkSource) or a web server / CDN over HTTP Range requests
// (HttpChunkSource). Sources are untrusted: the Downloader verifies every
// chunk against the release manifest whichever source served it.
class ChunkSource {
 public:
  // Receives chunk `index` (at `offset`); a non-OK status stops the stream
  // and is returned by Stream as is.
  using Sink =
      absl::FunctionRef<absl::Status(uint32_t index, int64_t offset, absl::string_view data)>;

  virtual ~ChunkSource() = default;
  // For messages, e.g. "download service dl.example:443".
  virtual std::string name() const = 0;
  // Streams the chunks of `manifest` from `first_chunk` to the end, in
  // order. OK when the stream ended (possibly early: the caller compares
  // what it received); UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED,
  // RESOURCE_EXHAUSTED... for failures worth retrying; UNAUTHENTICATED or
  // PERMISSION_DENIED when the server refuses the device; other codes when
  // this source cannot serve the artifact at all.
  virtual absl::Status Stream(const v1::ArtifactManifest& manifest, uint32_t first_chunk,
                              Sink sink) = 0;
};

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_CHUNK_SOURCE_H_
