#ifndef UPDRAFT_SERVICES_DOWNLOAD_ARTIFACT_STORE_H_
#define UPDRAFT_SERVICES_DOWNLOAD_ARTIFACT_STORE_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "updraft/v1/common.pb.h"

namespace updraft::download {

// Random-access reads of one artifact's bytes, kept open for repeated reads
// (one per chunk on the download path). Not thread-safe; one per stream.
class ArtifactReader {
 public:
  virtual ~ArtifactReader() = default;
  virtual int64_t size() const = 0;
  // Replaces *out with the bytes [offset, min(offset + length, size())).
  // OUT_OF_RANGE when offset < 0, length < 0 or offset > size(); DATA_LOSS
  // when the stored bytes are shorter than size().
  virtual absl::Status ReadAt(int64_t offset, int64_t length, std::string* out) = 0;
  // Reads exactly out.size() bytes at `offset` straight into `out` (the
  // download path reads into the outgoing message this way). OUT_OF_RANGE
  // when they are not all within [0, size()); DATA_LOSS as ReadAt. The
  // default copies through ReadAt; stores override it to avoid the copy.
  virtual absl::Status ReadInto(int64_t offset, absl::Span<char> out) {
    std::string buffer;
    if (offset < 0 || static_cast<int64_t>(out.size()) > size() - offset) {
      return absl::OutOfRangeError("read outside the artifact");
    }
    absl::Status s = ReadAt(offset, static_cast<int64_t>(out.size()), &buffer);
    if (!s.ok()) return s;
    if (buffer.size() != out.size()) return absl::DataLossError("short read");
    std::copy(buffer.begin(), buffer.end(), out.begin());
    return absl::OkStatus();
  }
};

// One upload in progress. Bytes are staged out of sight; Commit makes the
// artifact and its manifest visible at once, Abort (or destruction without
// Commit) discards everything. After any failed call the writer is aborted
// and further calls fail with FAILED_PRECONDITION. Not thread-safe.
class ArtifactWriter {
 public:
  virtual ~ArtifactWriter() = default;
  // RESOURCE_EXHAUSTED when the store is full, INTERNAL on other write errors.
  virtual absl::Status Append(absl::string_view data) = 0;
  virtual int64_t bytes_written() const = 0;
  // A reader over the bytes appended so far (e.g. to list a tar's files
  // before Commit).
  virtual absl::StatusOr<std::unique_ptr<ArtifactReader>> OpenWritten() = 0;
  // Durably stores the bytes under manifest.sha256() and then the manifest.
  // The caller has verified that the bytes hash to manifest.sha256() and that
  // manifest.size() == bytes_written(). ALREADY_EXISTS (nothing changed) when
  // a manifest for that hash is already visible: the first commit wins.
  virtual absl::Status Commit(const v1::ArtifactManifest& manifest) = 0;
  // Discards the staged bytes; a no-op after Commit or a previous Abort.
  virtual void Abort() = 0;
};

// Content-addressed artifact storage: artifacts are named by the lower-case
// hex SHA-256 of their bytes and never change once visible. An artifact is
// visible exactly when its manifest is. The volume implementation is
// FsArtifactStore; an object store can implement the same interface.
// Implementations are thread-safe.
class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  virtual absl::StatusOr<std::unique_ptr<ArtifactWriter>> BeginUpload() = 0;
  // INVALID_ARGUMENT for a malformed hash, NOT_FOUND "artifact <sha> not
  // found" for an unknown one.
  virtual absl::StatusOr<v1::ArtifactManifest> GetManifest(absl::string_view sha256_hex) = 0;
  // Same errors as GetManifest.
  virtual absl::StatusOr<std::unique_ptr<ArtifactReader>> OpenReader(
      absl::string_view sha256_hex) = 0;
};

}  // namespace updraft::download

#endif  // UPDRAFT_SERVICES_DOWNLOAD_ARTIFACT_STORE_H_
