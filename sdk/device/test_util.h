#ifndef UPDRAFT_SDK_DEVICE_TEST_UTIL_H_
#define UPDRAFT_SDK_DEVICE_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "updraft/v1/catalog.pb.h"
#include "updraft/v1/common.pb.h"

namespace updraft::device::testutil {

// Helpers for the SDK's tests: temporary directories, tar archives built with
// libarchive's writer, artifact manifests.

// A fresh empty directory under $TEST_TMPDIR (or /tmp).
std::string NewTempDir(absl::string_view prefix);

// One entry of a tar archive to build.
struct TarEntry {
  enum class Type { kFile, kDir, kSymlink, kHardlink, kFifo };
  Type type = Type::kFile;
  std::string path;
  std::string content;      // kFile
  std::string link_target;  // kSymlink, kHardlink
  int mode = 0644;
};

TarEntry File(std::string path, std::string content, int mode = 0644);
TarEntry Dir(std::string path);
TarEntry Symlink(std::string path, std::string target);
TarEntry Hardlink(std::string path, std::string target);
TarEntry Fifo(std::string path);

// A pax tar archive holding `entries` in order; aborts the test on a writer
// error.
std::string BuildTar(const std::vector<TarEntry>& entries);

// The manifest the download service would compute for `data`.
v1::ArtifactManifest MakeManifest(absl::string_view data, uint32_t chunk_size);

// An offer of package "demo-app" by author "acme" at `version`, with the
// manifest of `artifact`, DCinfo {DC_1: app.bin, DC_2: libcodec.so} (IDs
// prefixed with `dc_prefix`) and settings {"server": "prod", "volume": "7"}.
v1::Offer DemoOffer(const std::string& release_id, const std::string& version,
                    absl::string_view artifact, uint32_t chunk_size,
                    v1::OfferKind kind = v1::FRESH_INSTALL, const std::string& dc_prefix = "DC_");

// Contents of a file, or "<missing>" when it cannot be read.
std::string ReadOrMissing(const std::string& path);

// Whether a shared object whose path contains `part` (e.g. "libcurl.so") is
// mapped in this process.
bool SharedObjectMapped(const std::string& part);

}  // namespace updraft::device::testutil

#endif  // UPDRAFT_SDK_DEVICE_TEST_UTIL_H_
