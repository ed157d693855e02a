// HttpChunkSource loads libcurl on its first transfer, not before: a device
// holding HTTP sources it never streams from maps none of libcurl. A test
// binary of its own, so that nothing has loaded libcurl before it runs.

#include <link.h>

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "sdk/device/curl_library.h"
#include "sdk/device/http_chunk_source.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

using testutil::SharedObjectMapped;

// Afterwards: libcurl is mapped and loaded only from the first Stream that
// has bytes to fetch on (Create and a Stream past the end load nothing).
TEST(HttpChunkSourceFirstUseTest, LoadsLibcurlOnTheFirstTransferOnly) {
  ASSERT_FALSE(SharedObjectMapped("libcurl.so")) << "the test binary must not link libcurl";
  const v1::ArtifactManifest manifest = testutil::MakeManifest(std::string(2500, 'x'), 1000);
  HttpSourceOptions options;
  options.allow_plain_http = true;
  // Nothing listens on port 1.
  auto source = HttpChunkSource::Create("http://127.0.0.1:1/objects/x", options);
  ASSERT_TRUE(source.ok()) << source.status();
  auto no_chunk = [](uint32_t, int64_t, absl::string_view) { return absl::OkStatus(); };
  EXPECT_TRUE((*source)->Stream(manifest, 3, no_chunk).ok());  // nothing left to fetch
  EXPECT_FALSE(CurlLibrary::Loaded());
  EXPECT_FALSE(SharedObjectMapped("libcurl.so"));

  EXPECT_EQ((*source)->Stream(manifest, 0, no_chunk).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(CurlLibrary::Loaded());
  EXPECT_TRUE(SharedObjectMapped("libcurl.so.4"));
}

}  // namespace
}  // namespace updraft::device
