// Fuzzes what the download service computes from a publisher's upload
// (services/download/manifest_builder.h): the chunk manifest, built while the
// bytes stream past in arbitrary pieces, and ListTarFiles, which opens the
// artifact with libarchive (tar, gzip, bzip2, xz, zstd) to list its files.
//
// The first byte picks the chunk size (4-16 KiB) and how the stream is cut
// into Update() calls; the rest is the artifact.
// Invariants:
//  - the manifest does not depend on how the stream was cut: whole-file
//    SHA-256 and size, ceil(size / chunk_size) chunk hashes, each the SHA-256
//    of its slice;
//  - ListTarFiles never fails on readable bytes, lists no name twice, only
//    valid UTF-8 names without a leading "/" or "./", and gives the same list
//    when asked again.
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "common/crypto.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/utf8_reference.h"
#include "services/download/artifact_store.h"
#include "services/download/manifest_builder.h"

namespace updraft::download {
namespace {

// The artifact's bytes in memory.
class MemoryReader : public ArtifactReader {
 public:
  explicit MemoryReader(absl::string_view bytes) : bytes_(bytes) {}
  int64_t size() const override { return static_cast<int64_t>(bytes_.size()); }
  absl::Status ReadAt(int64_t offset, int64_t length, std::string* out) override {
    if (offset < 0 || length < 0 || offset > size()) return absl::OutOfRangeError("outside");
    *out = std::string(bytes_.substr(offset, length));
    return absl::OkStatus();
  }

 private:
  absl::string_view bytes_;
};

void CheckManifest(uint8_t how, absl::string_view artifact) {
  const uint32_t chunk = kMinChunkSize * (1 + (how & 3));
  auto builder = ManifestBuilder::Create(chunk);
  UPDRAFT_FUZZ_CHECK(builder.ok());
  // Pieces of 1, 7, 4096 or 65536 bytes, as the network delivers them.
  static constexpr size_t kPieces[] = {1, 7, 4096, 65536};
  const size_t piece = kPieces[(how >> 2) & 3];
  for (size_t off = 0; off < artifact.size(); off += piece) {
    (*builder)->Update(artifact.substr(off, piece));
  }
  const v1::ArtifactManifest m = (*builder)->Finish();
  UPDRAFT_FUZZ_CHECK(m.sha256() == Sha256Hex(artifact));
  UPDRAFT_FUZZ_CHECK(m.size() == static_cast<int64_t>(artifact.size()));
  UPDRAFT_FUZZ_CHECK(m.chunk_size() == chunk);
  const size_t chunks = (artifact.size() + chunk - 1) / chunk;
  UPDRAFT_FUZZ_CHECK(static_cast<size_t>(m.chunk_sha256_size()) == chunks);
  for (size_t i = 0; i < chunks; ++i) {
    UPDRAFT_FUZZ_CHECK(m.chunk_sha256(static_cast<int>(i)) ==
                       Sha256(artifact.substr(i * chunk, chunk)));
  }
}

void CheckFiles(absl::string_view artifact) {
  MemoryReader reader(artifact);
  absl::StatusOr<std::vector<std::string>> files = ListTarFiles(reader);
  UPDRAFT_FUZZ_CHECK_MSG(files.ok(), files.status().ToString().c_str());
  std::set<std::string> seen;
  for (const std::string& f : *files) {
    UPDRAFT_FUZZ_CHECK(!f.empty());
    UPDRAFT_FUZZ_CHECK(fuzz::ReferenceUtf8(f));
    UPDRAFT_FUZZ_CHECK(f[0] != '/' && f.rfind("./", 0) != 0);
    UPDRAFT_FUZZ_CHECK(seen.insert(f).second);
  }
  MemoryReader again_reader(artifact);
  absl::StatusOr<std::vector<std::string>> again = ListTarFiles(again_reader);
  UPDRAFT_FUZZ_CHECK(again.ok() && *again == *files);
}

}  // namespace
}  // namespace updraft::download

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  absl::string_view artifact(reinterpret_cast<const char*>(data) + 1, size - 1);
  updraft::download::CheckManifest(data[0], artifact);
  updraft::download::CheckFiles(artifact);
  return 0;
}
