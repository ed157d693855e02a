#ifndef UPDRAFT_SDK_DEVICE_DOWNLOADER_H_
#define UPDRAFT_SDK_DEVICE_DOWNLOADER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sdk/device/chunk_source.h"
#include "sdk/device/http_chunk_source.h"
#include "sdk/device/state_store.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::device {

// How far a download is.
struct DownloadProgressInfo {
  std::string sha256;
  uint32_t chunks_done = 0;
  uint32_t chunks_total = 0;
  int64_t bytes_done = 0;
  int64_t bytes_total = 0;
};

// Fetches one artifact into `<state_dir>/downloads/<sha256>.part` and, once
// complete and verified, renames it to `<state_dir>/downloads/<sha256>`.
// The bytes come from the download service over Download.Fetch and, as
// fallbacks, from the plain HTTP(S) URLs of the offer (a CDN or a web server
// in front of the artifact volume; see ChunkSource).
//
// Trust comes only from the manifest the catalog offered (the release
// metadata), never from a source: each chunk must have the expected index,
// offset, length and SHA-256, whichever source served it. A chunk that does
// not match is discarded and the download fails with DATA_LOSS
// (PACKAGE_VALIDATION_FAILED). Every verified chunk is written to the part
// file at once; the file is fdatasync'ed and the progress recorded in the
// StateStore every `sync_interval_bytes` (and at the end). A dropped stream,
// a restart or a reboot resumes from the last good chunk: every whole chunk
// in the part file is re-verified against the manifest (recorded or not;
// bytes lost or torn by a power cut fail the check) and the file truncated
// after the last good one, so a cut re-fetches at most the chunk that was in
// flight. The complete file must have the manifest's size and SHA-256.
//
// Sources are tried in order (gRPC first). A source failing without
// progress hands over at once to the next one; one that failed before is
// retried after a backoff; a source that cannot serve the artifact at all
// (e.g. 404) is dropped for this download. The download gives up when every
// source has failed `max_stream_retries` + 1 times in a row without
// progress, or when the download service refuses the device's token.
//
// Errors carry a SCOMO result code (result_code.h): 1407 for content that
// does not match the manifest, 1403 when the server rejects the device's
// token, 1500 for other server errors, 1501 when the sources stay
// unreachable, 1402/1404 for local write failures. Not thread-safe.
class Downloader {
 public:
  struct Options {
    // The download service; not owned. May be null when every fetch names
    // HTTP sources.
    v1::Download::StubInterface* stub = nullptr;
    StateStore* state = nullptr;
    // How HTTP(S) sources are reached.
    HttpSourceOptions http;
    int max_stream_retries = 3;
    // First wait before a retry; doubles per consecutive failure, capped at
    // 30 seconds.
    absl::Duration retry_backoff = absl::Milliseconds(500);
    // How to wait; absl::SleepFor by default. Tests record instead.
    std::function<void(absl::Duration)> sleep;
    absl::Duration stream_deadline = absl::Hours(1);
    // Durability checkpoints: fdatasync and a progress record at least
    // every this many bytes (0: after every chunk).
    int64_t sync_interval_bytes = int64_t{8} << 20;
    std::function<void(const DownloadProgressInfo&)> on_progress;
    // Also hash the whole artifact against manifest.sha256 (a second SHA-256
    // pass over every byte). Every chunk is verified either way; the whole-
    // file pass only adds a consistency check of an unsigned manifest, so
    // the client turns it off when the manifest comes from signed release
    // metadata (release_trust.h).
    bool verify_whole_file = true;
  };

  static absl::StatusOr<std::unique_ptr<Downloader>> Create(Options options);

  // Downloads (or resumes, or finds already complete) the artifact described
  // by `manifest` for `release_id` from the download service and then the
  // `http_urls`; returns the complete file's path.
  absl::StatusOr<std::string> Fetch(const std::string& release_id,
                                    const v1::ArtifactManifest& manifest,
                                    const std::string& access_token,
                                    const std::vector<std::string>& http_urls = {});

  // The same from the given sources, in order of preference.
  absl::StatusOr<std::string> FetchFrom(const std::string& release_id,
                                        const v1::ArtifactManifest& manifest,
                                        std::vector<std::unique_ptr<ChunkSource>> sources);

  // Deletes the artifact, its partial download and its progress record.
  absl::Status Discard(const std::string& sha256);

  std::string PartPath(const std::string& sha256) const;
  std::string ArtifactPath(const std::string& sha256) const;

 private:
  explicit Downloader(Options options) : options_(std::move(options)) {}

  Options options_;
  std::string dir_;
};

// INVALID_ARGUMENT (PACKAGE_VALIDATION_FAILED) unless the manifest is
// self-consistent: hex SHA-256, size >= 0, 0 < chunk_size <= 64 MiB, one
// 32-byte hash per chunk.
absl::Status ValidateManifest(const v1::ArtifactManifest& manifest);

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_DOWNLOADER_H_
