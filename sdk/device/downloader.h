#ifndef UPDRAFT_SDK_DEVICE_DOWNLOADER_H_
#define UPDRAFT_SDK_DEVICE_DOWNLOADER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
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

// Fetches one artifact over Download.Fetch into
// `<state_dir>/downloads/<sha256>.part` and, once complete and verified,
// renames it to `<state_dir>/downloads/<sha256>`.
//
// Trust comes only from the manifest the catalog offered (the release
// metadata; signing it comes with the catalog issue), never from the download server: each chunk must have the
// expected index, offset and SHA-256, and the whole file the manifest's size
// and SHA-256. A chunk that does not match is discarded and the download
// fails with DATA_LOSS (PACKAGE_VALIDATION_FAILED). Every verified chunk is
// written, fdatasync'ed and then recorded in the StateStore, so a dropped
// stream, a restart or a reboot resumes from the last good chunk: the part
// file is re-verified against the manifest up to the recorded count and
// truncated there. A dropped stream is retried (with backoff) up to
// `max_stream_retries` times in a row without progress.
//
// Errors carry a SCOMO result code (result_code.h): 1407 for content that
// does not match the manifest, 1403 when the server rejects the device's
// token, 1500 for other server errors, 1501 when the server stays
// unreachable, 1402/1404 for local write failures. Not thread-safe.
class Downloader {
 public:
  struct Options {
    // Not owned.
    v1::Download::StubInterface* stub = nullptr;
    StateStore* state = nullptr;
    int max_stream_retries = 3;
    // First wait before a retry; doubles per consecutive failure, capped at
    // 30 seconds.
    absl::Duration retry_backoff = absl::Milliseconds(500);
    // How to wait; absl::SleepFor by default. Tests record instead.
    std::function<void(absl::Duration)> sleep;
    absl::Duration stream_deadline = absl::Hours(1);
    std::function<void(const DownloadProgressInfo&)> on_progress;
  };

  static absl::StatusOr<std::unique_ptr<Downloader>> Create(Options options);

  // Downloads (or resumes, or finds already complete) the artifact described
  // by `manifest` for `release_id`; returns the complete file's path.
  absl::StatusOr<std::string> Fetch(const std::string& release_id,
                                    const v1::ArtifactManifest& manifest,
                                    const std::string& access_token);

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
