#include "sdk/device/tar_extract.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdk/device/file_util.h"
#include "sdk/device/result_code.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

using testutil::Dir;
using testutil::Fifo;
using testutil::File;
using testutil::Hardlink;
using testutil::ReadOrMissing;
using testutil::Symlink;
using testutil::TarEntry;

class TarExtractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::NewTempDir("tar");
    dest_ = dir_ + "/dest";
    ASSERT_TRUE(MakeDirectories(dest_).ok());
  }

  absl::StatusOr<ExtractStats> Extract(const std::vector<TarEntry>& entries,
                                       const std::vector<std::string>& reserved = {}) {
    std::string archive = dir_ + "/a.tar";
    EXPECT_TRUE(WriteFileAtomically(archive, testutil::BuildTar(entries)).ok());
    return ExtractTarSafely(archive, dest_, reserved);
  }

  void ExpectRejected(const std::vector<TarEntry>& entries, absl::string_view why) {
    auto r = Extract(entries);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status();
    EXPECT_EQ(ResultCodeOf(r.status(), v1::RESULT_CODE_UNSPECIFIED), v1::PACKAGE_VALIDATION_FAILED);
  }

  std::string dir_, dest_;
};

TEST_F(TarExtractTest, ExtractsFilesDirsAndLinks) {
  auto r = Extract({Dir("bin"), File("bin/app", "#!app", 0755), File("./lib/libx.so", "lib"),
                    Symlink("bin/lib", "../lib"), Hardlink("bin/app2", "bin/app")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->files, 2);
  EXPECT_EQ(r->links, 2);
  EXPECT_EQ(r->bytes, 8);
  EXPECT_EQ(ReadOrMissing(dest_ + "/bin/app"), "#!app");
  EXPECT_EQ(ReadOrMissing(dest_ + "/bin/lib/libx.so"), "lib");
  EXPECT_EQ(ReadOrMissing(dest_ + "/bin/app2"), "#!app");
  struct stat st;
  ASSERT_EQ(stat((dest_ + "/bin/app").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755);
}

TEST_F(TarExtractTest, RejectsDotDot) {
  ExpectRejected({File("../evil", "x")}, "\"..\"");
  ExpectRejected({File("a/../../evil", "x")}, "\"..\"");
  EXPECT_FALSE(PathExists(dir_ + "/evil"));
}

TEST_F(TarExtractTest, RejectsAbsolutePaths) {
  ExpectRejected({File("/tmp/updraft-evil", "x")}, "absolute");
}

TEST_F(TarExtractTest, RejectsSymlinksLeavingTheTree) {
  ExpectRejected({Symlink("a", "/etc/passwd")}, "absolute");
  ExpectRejected({Symlink("b", "../outside")}, "outside");
  ExpectRejected({Dir("d"), Symlink("d/c", "../../outside")}, "outside");
  ExpectRejected({Symlink("e", "x/../..")}, "after a directory name");
}

TEST_F(TarExtractTest, NeverWritesThroughASymlink) {
  ExpectRejected({Symlink("dir", "."), File("dir/f", "x")}, "not a directory");
  ExpectRejected({File("plain", "x"), Symlink("l", "plain"), File("l", "overwrite")},
                 "link or directory");
}

TEST_F(TarExtractTest, RejectsSpecialFilesAndBadHardlinks) {
  ExpectRejected({Fifo("pipe")}, "not a regular file");
  ExpectRejected({Hardlink("h", "/etc/passwd")}, "absolute");
  ExpectRejected({Hardlink("h2", "missing")}, "not a regular file in the package");
  ExpectRejected({Symlink("s", "x"), Hardlink("h3", "s")}, "not a regular file in the package");
}

TEST_F(TarExtractTest, RejectsReservedDirectory) {
  auto r = Extract({File(".updraft/settings.conf", "k=v")}, {".updraft"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("reserved"), std::string::npos);
}

TEST_F(TarExtractTest, GarbageIsDataLoss) {
  std::string archive = dir_ + "/bad.tar";
  ASSERT_TRUE(WriteFileAtomically(archive, std::string(3000, 'z')).ok());
  auto r = ExtractTarSafely(archive, dest_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_EQ(ResultCodeOf(r.status(), v1::RESULT_CODE_UNSPECIFIED), v1::PACKAGE_VALIDATION_FAILED);
}

TEST_F(TarExtractTest, TruncatedArchiveIsDataLoss) {
  std::string tar = testutil::BuildTar({File("big", std::string(10000, 'b'))});
  std::string archive = dir_ + "/cut.tar";
  ASSERT_TRUE(WriteFileAtomically(archive, tar.substr(0, 3000)).ok());
  auto r = ExtractTarSafely(archive, dest_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
}

}  // namespace
}  // namespace updraft::device
