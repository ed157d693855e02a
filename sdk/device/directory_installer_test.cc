#include "sdk/device/directory_installer.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdk/device/file_util.h"
#include "sdk/device/result_code.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

using testutil::File;
using testutil::ReadOrMissing;

class DirectoryInstallerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::NewTempDir("inst");
    root_ = dir_ + "/handset";
    auto installer = DirectoryInstaller::Create({.root = root_});
    ASSERT_TRUE(installer.ok()) << installer.status();
    installer_ = *std::move(installer);
  }

  std::string Artifact(const std::vector<testutil::TarEntry>& entries) {
    std::string path = absl::StrCat(dir_, "/artifact-", ++artifacts_, ".tar");
    EXPECT_TRUE(WriteFileAtomically(path, testutil::BuildTar(entries)).ok());
    return path;
  }

  static v1::Release Release(const std::string& version,
                             std::map<std::string, std::string> settings = {}) {
    v1::Release r;
    r.set_release_id("r_" + version);
    r.set_package_name("demo-app");
    r.set_version(version);
    for (auto& [k, v] : settings) (*r.mutable_settings())[k] = v;
    return r;
  }

  std::string dir_, root_;
  int artifacts_ = 0;
  std::unique_ptr<DirectoryInstaller> installer_;
};

TEST_F(DirectoryInstallerTest, FreshInstallWritesFilesAndSettings) {
  auto r = installer_->Install("demo-app", Artifact({File("app.bin", "v1"), File("lib/c.so", "c")}),
                               Release("1.0.0", {{"zeta", "last"}, {"alpha", "1"}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, v1::FRESH_INSTALL);
  EXPECT_EQ(r->location, root_ + "/demo-app");
  EXPECT_EQ(r->settings_applied, 2);
  EXPECT_EQ(ReadOrMissing(root_ + "/demo-app/app.bin"), "v1");
  EXPECT_EQ(ReadOrMissing(root_ + "/demo-app/lib/c.so"), "c");
  EXPECT_EQ(ReadOrMissing(root_ + "/demo-app/.updraft/settings.conf"), "alpha=1\nzeta=last\n");
  EXPECT_FALSE(PathExists(root_ + "/.staging-demo-app"));
  EXPECT_FALSE(PathExists(root_ + "/.old-demo-app"));
}

TEST_F(DirectoryInstallerTest, OverwriteReplacesTheWholeTree) {
  ASSERT_TRUE(installer_
                  ->Install("demo-app", Artifact({File("app.bin", "v1"), File("old.txt", "o")}),
                            Release("1.0.0", {{"mode", "a"}}))
                  .ok());
  auto r = installer_->Install("demo-app", Artifact({File("app.bin", "v2")}), Release("1.1.0"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, v1::OVERWRITE);
  EXPECT_EQ(ReadOrMissing(root_ + "/demo-app/app.bin"), "v2");
  EXPECT_FALSE(PathExists(root_ + "/demo-app/old.txt"));
  EXPECT_EQ(ReadOrMissing(root_ + "/demo-app/.updraft/settings.conf"), "");
  EXPECT_FALSE(PathExists(root_ + "/.old-demo-app"));
}

TEST_F(DirectoryInstallerTest, FailedExtractionKeepsTheOldVersion) {
  ASSERT_TRUE(
      installer_->Install("demo-app", Artifact({File("app.bin", "v1")}), Release("1.0.0")).ok());
  // Good entries first, then a traversal: extraction fails half way.
  auto r = installer_->Install(
      "demo-app", Artifact({File("app.bin", "v2"), File("new.txt", "n"), File("../escape", "x")}),
      Release("1.1.0"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResultCodeOf(r.status(), v1::RESULT_CODE_UNSPECIFIED), v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_EQ(ReadOrMissing(root_ + "/demo-app/app.bin"), "v1");
  EXPECT_FALSE(PathExists(root_ + "/demo-app/new.txt"));
  EXPECT_FALSE(PathExists(root_ + "/.staging-demo-app"));
  EXPECT_FALSE(PathExists(root_ + "/escape"));
  EXPECT_FALSE(PathExists(dir_ + "/escape"));
}

TEST_F(DirectoryInstallerTest, CorruptArchiveKeepsTheOldVersion) {
  ASSERT_TRUE(
      installer_->Install("demo-app", Artifact({File("app.bin", "v1")}), Release("1.0.0")).ok());
  std::string bad = dir_ + "/bad.tar";
  ASSERT_TRUE(WriteFileAtomically(bad, "definitely not a tar archive").ok());
  auto r = installer_->Install("demo-app", bad, Release("1.1.0"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ResultCodeOf(r.status(), v1::RESULT_CODE_UNSPECIFIED), v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_EQ(ReadOrMissing(root_ + "/demo-app/app.bin"), "v1");
}

TEST_F(DirectoryInstallerTest, RejectsTraversalAndAbsolutePathsOnFreshInstall) {
  for (const char* path : {"../evil", "sub/../../evil", "/tmp/updraft-evil-abs"}) {
    auto r = installer_->Install("demo-app", Artifact({File(path, "x")}), Release("1.0.0"));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_FALSE(PathExists(root_ + "/demo-app")) << path;
  }
  EXPECT_FALSE(PathExists("/tmp/updraft-evil-abs"));
  EXPECT_FALSE(PathExists(dir_ + "/evil"));
}

TEST_F(DirectoryInstallerTest, RejectsPackagesWritingTheSettingsDirectory) {
  auto r = installer_->Install("demo-app", Artifact({File(".updraft/settings.conf", "x=1")}),
                               Release("1.0.0"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DirectoryInstallerTest, RejectsBadPackageNamesAndSettings) {
  std::string artifact = Artifact({File("a", "a")});
  for (const char* name : {"", "../up", ".hidden", "a/b", "sp ace"}) {
    auto r = installer_->Install(name, artifact, Release("1.0.0"));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
  auto r = installer_->Install("demo-app", artifact, Release("1.0.0", {{"a=b", "x"}}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  r = installer_->Install("demo-app", artifact, Release("1.0.0", {{"k", "line\nbreak"}}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(PathExists(root_ + "/demo-app"));
}

TEST_F(DirectoryInstallerTest, RepairsAnInterruptedSwap) {
  ASSERT_TRUE(
      installer_->Install("demo-app", Artifact({File("app.bin", "v1")}), Release("1.0.0")).ok());
  // A crash after "rename old aside" and before "rename staging in".
  ASSERT_EQ(rename((root_ + "/demo-app").c_str(), (root_ + "/.old-demo-app").c_str()), 0);
  ASSERT_TRUE(MakeDirectories(root_ + "/.staging-demo-app/half").ok());
  auto reopened = DirectoryInstaller::Create({.root = root_});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(ReadOrMissing(root_ + "/demo-app/app.bin"), "v1");
  EXPECT_FALSE(PathExists(root_ + "/.old-demo-app"));
  EXPECT_FALSE(PathExists(root_ + "/.staging-demo-app"));
}

TEST_F(DirectoryInstallerTest, Remove) {
  EXPECT_EQ(installer_->Remove("demo-app").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(
      installer_->Install("demo-app", Artifact({File("app.bin", "v1")}), Release("1.0.0")).ok());
  ASSERT_TRUE(installer_->Remove("demo-app").ok());
  EXPECT_FALSE(PathExists(root_ + "/demo-app"));
  EXPECT_FALSE(PathExists(root_ + "/.removing-demo-app"));
}

TEST_F(DirectoryInstallerTest, MissingArtifactIsAnError) {
  auto r = installer_->Install("demo-app", dir_ + "/nope.tar", Release("1.0.0"));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(PathExists(root_ + "/demo-app"));
  EXPECT_FALSE(PathExists(root_ + "/.staging-demo-app"));
}

TEST_F(DirectoryInstallerTest, ComponentOperationsAreIdempotentAndSurviveNoReinstall) {
  v1::Release r = Release("1.0.0");
  r.mutable_dcinfo()->set_variant(v1::DcInfo::FILES);
  auto* e = r.mutable_dcinfo()->add_entries();
  e->set_dc_id("DC_1");
  e->add_files("app.bin");
  e = r.mutable_dcinfo()->add_entries();
  e->set_dc_id("DC_2");
  e->add_files("lib/c.so");
  e->add_files("lib/d.so");
  ASSERT_TRUE(installer_
                  ->Install("demo-app",
                            Artifact({File("app.bin", "a"), File("lib/c.so", "c"),
                                      File("lib/d.so", "d")}),
                            r)
                  .ok());
  const ComponentRef dc2{"demo-app", "DC_2", "DC_2", "1.0.0"};
  EXPECT_TRUE(installer_->IsActive("demo-app", "DC_2"));
  ASSERT_TRUE(installer_->Deactivate(dc2).ok());
  ASSERT_TRUE(installer_->Deactivate(dc2).ok());
  EXPECT_FALSE(installer_->IsActive("demo-app", "DC_2"));
  EXPECT_TRUE(installer_->IsActive("demo-app", "DC_1"));
  ASSERT_TRUE(installer_->Activate(dc2).ok());
  ASSERT_TRUE(installer_->Activate(dc2).ok());
  EXPECT_TRUE(installer_->IsActive("demo-app", "DC_2"));
  ASSERT_TRUE(installer_->Deactivate(dc2).ok());
  ASSERT_TRUE(installer_->RemoveComponent(dc2).ok());
  ASSERT_TRUE(installer_->RemoveComponent(dc2).ok());
  EXPECT_EQ(ReadOrMissing(root_ + "/demo-app/lib/c.so"), "<missing>");
  EXPECT_EQ(ReadOrMissing(root_ + "/demo-app/lib/d.so"), "<missing>");
  EXPECT_EQ(ReadOrMissing(root_ + "/demo-app/app.bin"), "a");
  EXPECT_TRUE(installer_->IsActive("demo-app", "DC_2"));  // No stale marker.

  // A new install starts with every DC active.
  ASSERT_TRUE(installer_->Deactivate({"demo-app", "DC_1", "", ""}).ok());
  ASSERT_TRUE(installer_->Install("demo-app", Artifact({File("app.bin", "b")}), Release("1.1.0"))
                  .ok());
  EXPECT_TRUE(installer_->IsActive("demo-app", "DC_1"));
}

TEST_F(DirectoryInstallerTest, ComponentOperationsRejectBadTargetsWithTheirCodes) {
  EXPECT_EQ(ResultCodeOf(installer_->Activate({"absent", "DC_1", "", ""}), v1::UNDEFINED_ERROR),
            v1::ACTIVATE_FAILED);
  EXPECT_EQ(
      ResultCodeOf(installer_->Deactivate({"absent", "DC_1", "", ""}), v1::UNDEFINED_ERROR),
      v1::DEACTIVATE_FAILED);
  EXPECT_EQ(
      ResultCodeOf(installer_->RemoveComponent({"absent", "DC_1", "", ""}), v1::UNDEFINED_ERROR),
      v1::REMOVE_FAILED);
  ASSERT_TRUE(installer_->Install("demo-app", Artifact({File("app.bin", "a")}), Release("1.0.0"))
                  .ok());
  for (const std::string& bad : {"", "../x", ".hidden", "a/b"}) {
    EXPECT_FALSE(installer_->Deactivate({"demo-app", bad, "", ""}).ok()) << bad;
  }
  EXPECT_FALSE(installer_->Activate({"../demo-app", "DC_1", "", ""}).ok());
  EXPECT_EQ(ReadOrMissing(root_ + "/demo-app/app.bin"), "a");
}

}  // namespace
}  // namespace updraft::device
