#ifndef UPDRAFT_SERVICES_DOWNLOAD_MOCKS_H_
#define UPDRAFT_SERVICES_DOWNLOAD_MOCKS_H_

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "services/download/artifact_store.h"
#include "services/download/download_grants.h"

namespace updraft::download {

// gMock doubles of the artifact store interfaces, for failure injection.
class MockArtifactStore : public ArtifactStore {
 public:
  MOCK_METHOD(absl::StatusOr<std::unique_ptr<ArtifactWriter>>, BeginUpload, (), (override));
  MOCK_METHOD(absl::StatusOr<v1::ArtifactManifest>, GetManifest, (absl::string_view sha256_hex),
              (override));
  MOCK_METHOD(absl::StatusOr<std::unique_ptr<ArtifactReader>>, OpenReader,
              (absl::string_view sha256_hex), (override));
};

class MockArtifactWriter : public ArtifactWriter {
 public:
  MOCK_METHOD(absl::Status, Append, (absl::string_view data), (override));
  MOCK_METHOD(int64_t, bytes_written, (), (const, override));
  MOCK_METHOD(absl::StatusOr<std::unique_ptr<ArtifactReader>>, OpenWritten, (), (override));
  MOCK_METHOD(absl::Status, Commit, (const v1::ArtifactManifest& manifest), (override));
  MOCK_METHOD(void, Abort, (), (override));
};

class MockArtifactReader : public ArtifactReader {
 public:
  MOCK_METHOD(int64_t, size, (), (const, override));
  MOCK_METHOD(absl::Status, ReadAt, (int64_t offset, int64_t length, std::string* out), (override));
};

class MockDownloadGrants : public DownloadGrants {
 public:
  MOCK_METHOD(absl::StatusOr<bool>, IsGranted,
              (absl::string_view device_id, absl::string_view sha256_hex), (override));
};

}  // namespace updraft::download

#endif  // UPDRAFT_SERVICES_DOWNLOAD_MOCKS_H_
