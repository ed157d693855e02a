#ifndef UPDRAFT_SDK_DEVICE_HTTP_CHUNK_SOURCE_H_
#define UPDRAFT_SDK_DEVICE_HTTP_CHUNK_SOURCE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sdk/device/chunk_source.h"

namespace updraft::device {

// How the SDK reaches plain HTTP(S) sources (Offer.http_urls).
struct HttpSourceOptions {
  // PEM CA bundle for https:// sources; empty: the system's trust store
  // (CDNs usually have publicly trusted certificates).
  std::string ca_file;
  // Optional client certificate and key (both or neither).
  std::string client_cert_file;
  std::string client_key_file;
  // Allows http:// URLs (development and tests; the bytes are still
  // verified, but their contents travel in the clear).
  bool allow_plain_http = false;
  absl::Duration connect_timeout = absl::Seconds(10);
  // A transfer slower than 1 byte/s for this long is abandoned (and
  // retried or resumed elsewhere).
  absl::Duration stall_timeout = absl::Seconds(60);
  // The libcurl the first transfer loads (dlopen: a soname or a path; see
  // curl_library.h). Without it, HTTP sources fail with FAILED_PRECONDITION
  // and downloads go on from the other sources.
  std::string curl_library = "libcurl.so.4";
};

// ChunkSource over one HTTP(S) URL of the artifact's bytes, with libcurl
// (loaded by the process's first Stream, not by Create): one Range request
// from the first wanted chunk to the end, cut into manifest-sized chunks as
// the bytes arrive (one chunk buffered). Anything but 206 Partial Content
// (or 200 for a request from byte 0) is refused.
class HttpChunkSource : public ChunkSource {
 public:
  // INVALID_ARGUMENT for a URL that is not https:// (or http:// when
  // allowed), half a client certificate or no curl_library.
  static absl::StatusOr<std::unique_ptr<HttpChunkSource>> Create(std::string url,
                                                                 HttpSourceOptions options);

  std::string name() const override { return url_; }
  absl::Status Stream(const v1::ArtifactManifest& manifest, uint32_t first_chunk,
                      Sink sink) override;

 private:
  HttpChunkSource(std::string url, HttpSourceOptions options)
      : url_(std::move(url)), options_(std::move(options)) {}

  const std::string url_;
  const HttpSourceOptions options_;
};

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_HTTP_CHUNK_SOURCE_H_
