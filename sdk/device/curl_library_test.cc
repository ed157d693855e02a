#include "sdk/device/curl_library.h"

#include <link.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

using testutil::SharedObjectMapped;

// This test binary does not link libcurl: it is mapped only once Load() has
// been called, and however many threads ask at once, they all get the same
// library, loaded and initialised once. The only test here that loads it.
TEST(CurlLibraryTest, LoadsOnFirstUseOnceFromAnyThread) {
  EXPECT_FALSE(CurlLibrary::Loaded());
  EXPECT_FALSE(SharedObjectMapped("libcurl.so"));

  std::vector<absl::StatusOr<const CurlLibrary*>> got(8, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&got, i] { got[i] = CurlLibrary::Load(); });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(got[0].ok()) << got[0].status();
  for (const auto& g : got) {
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_EQ(*g, *got[0]);
  }
  EXPECT_TRUE(CurlLibrary::Loaded());
  EXPECT_TRUE(SharedObjectMapped("libcurl.so.4"));
  EXPECT_EQ(*CurlLibrary::Load(), *got[0]);

  // The resolved functions are libcurl's.
  const CurlLibrary& curl = **got[0];
  EXPECT_STREQ(curl.easy_strerror(CURLE_OK), "No error");
  CURL* handle = curl.easy_init();
  ASSERT_NE(handle, nullptr);
  EXPECT_EQ(curl.easy_setopt(handle, CURLOPT_URL, "http://127.0.0.1:1/"), CURLE_OK);
  long code = -1;
  EXPECT_EQ(curl.easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
  EXPECT_EQ(code, 0);
  curl.easy_cleanup(handle);
}

// A handset without the library: FAILED_PRECONDITION naming it, every time,
// and it does not count as loaded.
TEST(CurlLibraryTest, MissingLibraryIsFailedPreconditionNamingIt) {
  const std::string name = "libcurl-absent-for-test.so.4";
  absl::StatusOr<const CurlLibrary*> lib = CurlLibrary::Load(name);
  ASSERT_FALSE(lib.ok());
  EXPECT_EQ(lib.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(lib.status().message(), name)) << lib.status();
  EXPECT_TRUE(absl::StrContains(lib.status().message(), "HTTP(S) download sources"));
  EXPECT_EQ(CurlLibrary::Load(name).status(), lib.status());
  EXPECT_FALSE(CurlLibrary::Loaded(name));
}

// A library that loads but is not libcurl is refused (and not kept mapped by
// us); an empty name would be the program itself.
TEST(CurlLibraryTest, RefusesALibraryWithoutCurlAndAnEmptyName) {
  absl::StatusOr<const CurlLibrary*> lib = CurlLibrary::Load("libz.so.1");
  ASSERT_FALSE(lib.ok());
  EXPECT_EQ(lib.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(lib.status().message(), "libz.so.1")) << lib.status();
  EXPECT_TRUE(absl::StrContains(lib.status().message(), "it has no curl_")) << lib.status();
  EXPECT_FALSE(CurlLibrary::Loaded("libz.so.1"));
  EXPECT_EQ(CurlLibrary::Load("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace updraft::device
