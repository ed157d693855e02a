#ifndef UPDRAFT_SERVICES_DOWNLOAD_DOWNLOAD_SERVICE_H_
#define UPDRAFT_SERVICES_DOWNLOAD_DOWNLOAD_SERVICE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "common/logger.h"
#include "common/token.h"
#include "services/download/artifact_store.h"
#include "services/download/download_grants.h"
#include "services/download/manifest_builder.h"
#include "updraft/v1/common.pb.h"
#include "updraft/v1/download.pb.h"

namespace updraft::download {

// One artifact upload: bytes are appended in order, hashed on the way and
// staged in the store; Finish verifies length and hash and makes the
// artifact visible. Any error discards the upload (nothing becomes visible),
// and so does destroying the session before Finish. Not thread-safe.
class DownloadService;

class UploadSession {
 public:
  ~UploadSession();
  // INVALID_ARGUMENT past the declared size; store errors as they come.
  absl::Status Append(absl::string_view data);
  // The visible artifact's manifest. INVALID_ARGUMENT when fewer bytes than
  // declared arrived or they hash to something else than declared.
  absl::StatusOr<v1::ArtifactManifest> Finish();
  // True when the artifact was already stored before this upload finished;
  // Finish then returns the stored manifest and stores nothing.
  bool already_present() const { return already_present_; }

 private:
  friend class DownloadService;
  UploadSession(ArtifactStore* store, v1::UploadHeader header,
                std::unique_ptr<ManifestBuilder> builder);
  absl::Status Fail(absl::Status status);
  absl::StatusOr<v1::ArtifactManifest> Complete();

  ArtifactStore* store_;
  const v1::UploadHeader header_;
  std::unique_ptr<ManifestBuilder> builder_;
  // Null when the artifact was already present at the start.
  std::unique_ptr<ArtifactWriter> writer_;
  absl::optional<v1::ArtifactManifest> existing_;
  absl::Status failure_;
  bool finished_ = false;
  bool already_present_ = false;
};

// One chunk about to be read by FetchStream::NextInto.
struct ChunkRef {
  uint32_t index = 0;
  int64_t offset = 0;
  size_t length = 0;
  // Raw SHA-256 recorded in the manifest at upload.
  const std::string* sha256 = nullptr;
};

// The chunks of one artifact from a starting chunk to the end, read one at a
// time (memory: one chunk, owned by the caller). Each carries the hash
// recorded in the manifest at upload; nothing is re-hashed. Counts against
// its device's concurrency limit until destroyed. Not thread-safe; must not
// outlive the DownloadService.
class FetchStream {
 public:
  ~FetchStream();
  // Replaces *chunk with the next chunk; false at the end.
  absl::StatusOr<bool> Next(v1::Chunk* chunk);
  // Reads the next chunk straight into the `length` bytes `place` returns
  // for it (e.g. inside a pre-serialised message); false at the end.
  absl::StatusOr<bool> NextInto(absl::FunctionRef<absl::Span<char>(const ChunkRef&)> place);
  const v1::ArtifactManifest& manifest() const { return manifest_; }

 private:
  friend class DownloadService;
  FetchStream(DownloadService* service, std::string device_id, v1::ArtifactManifest manifest,
              std::unique_ptr<ArtifactReader> reader, int64_t first_index)
      : service_(service),
        device_id_(std::move(device_id)),
        manifest_(std::move(manifest)),
        reader_(std::move(reader)),
        next_index_(first_index) {}

  DownloadService* service_;
  const std::string device_id_;
  const v1::ArtifactManifest manifest_;
  std::unique_ptr<ArtifactReader> reader_;
  int64_t next_index_;
};

// The download service's domain logic, free of any transport: uploads of
// content-addressed artifacts with their chunk manifests, manifest lookup,
// and resumable chunked fetches for devices. Thread-safe.
class DownloadService {
 public:
  struct Options {
    ArtifactStore* store = nullptr;
    // Verifies device tokens for Fetch (used by the transport adapters).
    TokenVerifier* verifier = nullptr;
    int64_t max_artifact_bytes = int64_t{2} << 30;
    uint32_t default_chunk_size = kDefaultChunkSize;
    // Which artifacts each device may fetch (offered to it by the catalog);
    // null: any device may fetch any artifact (tests, or no Redis).
    DownloadGrants* grants = nullptr;
    // Fetch streams one device may have open at once on this replica.
    int max_fetches_per_device = 2;
    // Optional.
    Logger* logger = nullptr;
  };

  static absl::StatusOr<std::unique_ptr<DownloadService>> Create(Options options);

  // Validates the header (INVALID_ARGUMENT naming the field) and starts an
  // upload.
  absl::StatusOr<std::unique_ptr<UploadSession>> BeginUpload(const v1::UploadHeader& header);
  absl::StatusOr<v1::ArtifactManifest> GetManifest(absl::string_view sha256_hex);
  // Chunks of artifact `sha256_hex` from the one holding `offset` on; empty
  // when offset == size. INVALID_ARGUMENT for a malformed hash, NOT_FOUND for
  // an unknown artifact, PERMISSION_DENIED when it was not offered to the
  // device, RESOURCE_EXHAUSTED when the device already has
  // max_fetches_per_device streams open, OUT_OF_RANGE for an offset outside
  // [0, size].
  absl::StatusOr<std::unique_ptr<FetchStream>> Fetch(absl::string_view device_id,
                                                     absl::string_view sha256_hex, int64_t offset);

  TokenVerifier& verifier() const { return *options_.verifier; }
  // Fetch streams open now, over all devices.
  int active_fetches() const;

 private:
  friend class FetchStream;
  explicit DownloadService(Options options) : options_(options) {}
  absl::Status Acquire(const std::string& device_id);
  void Release(const std::string& device_id);

  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> active_ ABSL_GUARDED_BY(mu_);
  int active_total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace updraft::download

#endif  // UPDRAFT_SERVICES_DOWNLOAD_DOWNLOAD_SERVICE_H_
