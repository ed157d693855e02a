#ifndef UPDRAFT_SERVICES_DOWNLOAD_MANIFEST_BUILDER_H_
#define UPDRAFT_SERVICES_DOWNLOAD_MANIFEST_BUILDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto.h"
#include "services/download/artifact_store.h"
#include "updraft/v1/common.pb.h"

namespace updraft::download {

inline constexpr uint32_t kDefaultChunkSize = 1 << 20;
inline constexpr uint32_t kMinChunkSize = 4 << 10;
inline constexpr uint32_t kMaxChunkSize = 16 << 20;

// OK when kMinChunkSize <= chunk_size <= kMaxChunkSize; otherwise
// INVALID_ARGUMENT naming `field`.
absl::Status ValidateChunkSize(uint32_t chunk_size, absl::string_view field = "chunk_size");

// Computes an artifact's manifest while its bytes stream past: the SHA-256
// of the whole and of every chunk_size-byte chunk (the last may be shorter).
// Memory: 32 bytes per chunk. Not thread-safe.
class ManifestBuilder {
 public:
  static absl::StatusOr<std::unique_ptr<ManifestBuilder>> Create(uint32_t chunk_size);

  void Update(absl::string_view data);
  int64_t size() const { return size_; }
  // Fills sha256, size, chunk_size and chunk_sha256 (not files); the builder
  // must not be used afterwards.
  v1::ArtifactManifest Finish();

 private:
  explicit ManifestBuilder(uint32_t chunk_size) : chunk_size_(chunk_size) {}

  const uint32_t chunk_size_;
  int64_t size_ = 0;
  uint32_t in_chunk_ = 0;
  Sha256Hasher whole_;
  Sha256Hasher chunk_;
  std::vector<std::string> chunk_hashes_;
};

// The regular files inside `contents` when it is a tar archive (plain, or
// compressed with gzip, bzip2, xz or zstd), in archive order without
// duplicates, with leading "./" and "/" removed. Anything else, a damaged
// archive, one whose decompressed stream grows past 16 times its size plus
// 1 GiB, or one with more than 100000 files gives an empty list; names that
// are not UTF-8 are skipped. Errors only when `contents` cannot be read.
absl::StatusOr<std::vector<std::string>> ListTarFiles(ArtifactReader& contents);

}  // namespace updraft::download

#endif  // UPDRAFT_SERVICES_DOWNLOAD_MANIFEST_BUILDER_H_
