#ifndef UPDRAFT_TESTS_E2E_FIXTURE_H_
#define UPDRAFT_TESTS_E2E_FIXTURE_H_

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/test_util.h"
#include "tests/platform.h"

namespace updraft::e2e {

// A GoogleTest fixture over a freshly started Platform, with the publisher
// and device steps the end-to-end tests share.
class PlatformTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kChunkSize = 4096;

  void SetUp() override {
    auto platform = Platform::Start();
    ASSERT_TRUE(platform.ok()) << platform.status();
    platform_ = *std::move(platform);
  }

  // A device with its own fresh directory (or `dir`: the same handset
  // restarted), registered with auth unless `register_device` is false.
  std::unique_ptr<TestDevice> NewDevice(const std::string& id, TestDevice::Options options = {},
                                        std::string dir = "", bool register_device = true) {
    options.device_id = id;
    if (dir.empty()) dir = device::testutil::NewTempDir(id);
    auto d = TestDevice::Create(*platform_, dir, options);
    EXPECT_TRUE(d.ok()) << d.status();
    if (!d.ok()) return nullptr;
    if (register_device) {
      absl::Status registered = platform_->RegisterDevice(id, (*d)->key().public_key());
      EXPECT_TRUE(registered.ok()) << registered;
    }
    return *std::move(d);
  }

  // The "demo-app" package by "acme", created on first use.
  const v1::Package& DemoPackage() {
    if (package_.package_id().empty()) {
      auto package = platform_->CreatePackage("demo-app", "acme");
      EXPECT_TRUE(package.ok()) << package.status();
      if (package.ok()) package_ = *package;
    }
    return package_;
  }

  // Uploads the demo artifact of `version` in 4 KiB chunks.
  void UploadDemo(const std::string& version, DemoArtifact* artifact,
                  v1::ArtifactManifest* manifest) {
    *artifact = MakeDemoArtifact(version);
    auto uploaded = platform_->Upload(artifact->tar, kChunkSize);
    ASSERT_TRUE(uploaded.ok()) << uploaded.status();
    ASSERT_EQ(uploaded->chunk_size(), kChunkSize);
    ASSERT_GE(uploaded->chunk_sha256_size(), 4);
    ASSERT_THAT(uploaded->files(), ::testing::UnorderedElementsAre("app.bin", "libcodec.so"));
    *manifest = *uploaded;
  }

  v1::CreateReleaseRequest DemoRequest(const std::string& version, const std::string& sha256) {
    v1::CreateReleaseRequest request;
    request.set_package_id(DemoPackage().package_id());
    request.set_version(version);
    request.set_artifact_sha256(sha256);
    *request.mutable_dcinfo() = DemoDcInfo();
    (*request.mutable_settings())["server"] = "prod";
    (*request.mutable_settings())["volume"] = "7";
    return request;
  }

  // Upload, CreateRelease (variant A DCinfo and settings) and PublishRelease.
  void PublishDemo(const std::string& version, DemoArtifact* artifact, v1::Release* release) {
    v1::ArtifactManifest manifest;
    ASSERT_NO_FATAL_FAILURE(UploadDemo(version, artifact, &manifest));
    auto created = platform_->CreateRelease(DemoRequest(version, manifest.sha256()));
    ASSERT_TRUE(created.ok()) << created.status();
    EXPECT_EQ(created->state(), v1::DRAFT);
    auto published = platform_->PublishRelease(created->release_id());
    ASSERT_TRUE(published.ok()) << published.status();
    EXPECT_EQ(published->state(), v1::PUBLISHED);
    EXPECT_EQ(published->artifact().sha256(), manifest.sha256());
    *release = *published;
  }

  v1::DeviceState DeviceState(const std::string& device_id) {
    auto state = platform_->GetDeviceState(device_id);
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? *state : v1::DeviceState();
  }

  // One active upgrade of `device` installs `version` and reports it.
  void ExpectInstalls(TestDevice& device, const std::string& version) {
    auto run = device.client().RunActiveUpgrade();
    ASSERT_TRUE(run.ok()) << run.status();
    ASSERT_EQ(run->size(), 1u);
    EXPECT_EQ((*run)[0].result, v1::SUCCESS) << (*run)[0].message;
    EXPECT_EQ((*run)[0].release.version(), version);
    EXPECT_TRUE((*run)[0].reported) << (*run)[0].report_error;
  }

  // Exactly one SUCCESS report of `release` for `device_id`.
  void ExpectOneSuccess(const std::string& device_id, const v1::Release& release) {
    int n = 0;
    const v1::DeviceState state = DeviceState(device_id);  // outlives the loop
    for (const auto& r : state.history()) {
      n += r.release_id() == release.release_id() && r.result() == v1::SUCCESS;
    }
    EXPECT_EQ(n, 1) << device_id << " " << release.version();
  }

  std::unique_ptr<Platform> platform_;
  v1::Package package_;
};

// The SUCCESS report a device sends after installing `release`: every DC of
// it Deployed and active.
inline v1::ReportResultRequest SuccessReport(const std::string& report_id,
                                             const v1::Release& release) {
  v1::ReportResultRequest r;
  r.set_report_id(report_id);
  r.set_release_id(release.release_id());
  r.set_result(v1::SUCCESS);
  r.set_message("installed");
  for (const auto& dc : release.dcinfo().entries()) {
    auto* c = r.add_deployed();
    c->set_dc_id(dc.dc_id());
    c->set_release_id(release.release_id());
    c->set_name(dc.dc_id());
    c->set_version(release.version());
    c->set_location(v1::DEPLOYED);
    c->set_state(v1::ACTIVE);
  }
  return r;
}

// Asserts the code of `status` and a part of its message.
inline void ExpectStatus(const absl::Status& status, absl::StatusCode code,
                         const std::string& message_part) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr(message_part));
}

}  // namespace updraft::e2e

#endif  // UPDRAFT_TESTS_E2E_FIXTURE_H_
