#include "sdk/device/file_util.h"

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

TEST(FileUtilTest, AtomicWriteReplacesAndLeavesNoTempFile) {
  std::string dir = testutil::NewTempDir("fu");
  std::string path = absl::StrCat(dir, "/f");
  ASSERT_TRUE(WriteFileAtomically(path, "one").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two").ok());
  EXPECT_EQ(testutil::ReadOrMissing(path), "two");
  EXPECT_FALSE(PathExists(path + ".tmp"));
}

TEST(FileUtilTest, WriteIntoMissingDirectoryFails) {
  std::string dir = testutil::NewTempDir("fu");
  absl::Status s = WriteFileAtomically(absl::StrCat(dir, "/no/such/f"), "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
}

TEST(FileUtilTest, ReadMissingIsNotFound) {
  EXPECT_EQ(ReadFileToString("/nonexistent/updraft").status().code(), absl::StatusCode::kNotFound);
}

TEST(FileUtilTest, MakeAndRemoveTree) {
  std::string dir = testutil::NewTempDir("fu");
  std::string deep = absl::StrCat(dir, "/a/b/c");
  ASSERT_TRUE(MakeDirectories(deep).ok());
  ASSERT_TRUE(WriteFileAtomically(deep + "/f", "x").ok());
  ASSERT_TRUE(RemoveTree(absl::StrCat(dir, "/a")).ok());
  EXPECT_FALSE(PathExists(absl::StrCat(dir, "/a")));
  EXPECT_TRUE(RemoveTree(absl::StrCat(dir, "/a")).ok());
}

TEST(FileUtilTest, ErrnoMapping) {
  EXPECT_EQ(ErrnoStatus(ENOSPC, "w").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoStatus(ENOENT, "w").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoStatus(EACCES, "w").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoStatus(EIO, "w").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(DirName("/a/b"), "/a");
  EXPECT_EQ(DirName("b"), ".");
  EXPECT_EQ(DirName("/b"), "/");
}

}  // namespace
}  // namespace updraft::device
