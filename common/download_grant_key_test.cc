#include "common/download_grant_key.h"

#include "gtest/gtest.h"

namespace updraft {
namespace {

TEST(DownloadGrantKeyTest, PrefixDeviceAndSha256) {
  const std::string sha(64, 'a');
  EXPECT_EQ(DownloadGrantKey("updraft:", "dev-1", sha), "updraft:download-grant:dev-1:" + sha);
  EXPECT_EQ(DownloadGrantKey("", "d", "s"), "download-grant:d:s");
}

}  // namespace
}  // namespace updraft
