#include "sdk/device/state_store.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdk/device/file_util.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

v1::InventoryComponent Deployed(const std::string& dc_id, const std::string& version) {
  v1::InventoryComponent c;
  c.set_dc_id(dc_id);
  c.set_release_id("r_1");
  c.set_author("acme");
  c.set_name("demo-app");
  c.set_version(version);
  c.set_location(v1::DEPLOYED);
  c.set_state(v1::ACTIVE);
  return c;
}

TEST(StateStoreTest, MissingFileIsEmptyState) {
  std::string dir = testutil::NewTempDir("state");
  auto store = StateStore::Open(dir + "/nested/state");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Snapshot().ByteSizeLong(), 0u);
}

TEST(StateStoreTest, RoundTripsThroughReopen) {
  std::string dir = testutil::NewTempDir("state");
  {
    auto store = StateStore::Open(dir);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)
                    ->Update([](v1::DeviceLocalState& s) {
                      *s.add_deployed() = Deployed("DC_1", "1.0.0");
                      auto* d = s.add_downloads();
                      d->set_release_id("r_2");
                      d->set_artifact_sha256(std::string(64, 'a'));
                      d->set_verified_chunks(3);
                      return absl::OkStatus();
                    })
                    .ok());
  }
  auto reopened = StateStore::Open(dir);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  v1::DeviceLocalState s = (*reopened)->Snapshot();
  ASSERT_EQ(s.deployed_size(), 1);
  EXPECT_EQ(s.deployed(0).dc_id(), "DC_1");
  EXPECT_EQ(s.deployed(0).author(), "acme");
  EXPECT_EQ(s.deployed(0).state(), v1::ACTIVE);
  ASSERT_EQ(s.downloads_size(), 1);
  EXPECT_EQ(s.downloads(0).verified_chunks(), 3u);
}

TEST(StateStoreTest, AtomicWriteLeavesNoTempFileAndIgnoresStaleOne) {
  std::string dir = testutil::NewTempDir("state");
  auto store = StateStore::Open(dir);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)
                  ->Update([](v1::DeviceLocalState& s) {
                    *s.add_deployed() = Deployed("DC_1", "1.0.0");
                    return absl::OkStatus();
                  })
                  .ok());
  std::string path = (*store)->file_path();
  EXPECT_FALSE(PathExists(path + ".tmp"));
  // A crash in the middle of the next write leaves a torn temp file; the
  // committed state is still what loads.
  ASSERT_TRUE(WriteFileAtomically(path + ".tmp.x", "").ok());
  ASSERT_EQ(rename((path + ".tmp.x").c_str(), (path + ".tmp").c_str()), 0);
  auto reopened = StateStore::Open(dir);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->Snapshot().deployed(0).dc_id(), "DC_1");
}

TEST(StateStoreTest, FailedMutationChangesNothing) {
  std::string dir = testutil::NewTempDir("state");
  auto store = StateStore::Open(dir);
  ASSERT_TRUE(store.ok());
  absl::Status s = (*store)->Update([](v1::DeviceLocalState& st) {
    *st.add_deployed() = Deployed("DC_1", "1.0.0");
    return absl::FailedPreconditionError("no");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*store)->Snapshot().deployed_size(), 0);
  EXPECT_FALSE(PathExists((*store)->file_path()));
}

TEST(StateStoreTest, FailedWriteKeepsTheOldStateInMemory) {
  std::string dir = testutil::NewTempDir("state");
  auto store = StateStore::Open(dir);
  ASSERT_TRUE(store.ok());
  // Make the file path a directory so that rename() fails.
  ASSERT_TRUE(MakeDirectories((*store)->file_path() + "/blocker").ok());
  absl::Status s = (*store)->Update([](v1::DeviceLocalState& st) {
    *st.add_deployed() = Deployed("DC_1", "1.0.0");
    return absl::OkStatus();
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ((*store)->Snapshot().deployed_size(), 0);
}

TEST(StateStoreTest, CorruptFilesAreDataLoss) {
  std::string dir = testutil::NewTempDir("state");
  v1::DeviceLocalState state;
  *state.add_deployed() = Deployed("DC_1", "1.0.0");
  std::string path = absl::StrCat(dir, "/", StateStore::kFileName);
  ASSERT_TRUE(WriteStateFile(path, state).ok());
  std::string good = testutil::ReadOrMissing(path);

  std::vector<std::string> corruptions = {
      "garbage that is not a protobuf \xff\xff\xff", good.substr(0, good.size() / 2),  // torn write
  };
  std::string flipped = good;
  flipped[flipped.size() - 40] ^= 0x01;  // a bit flip inside the state bytes
  corruptions.push_back(flipped);
  v1::DeviceStateFile wrong_version;
  wrong_version.set_format_version(99);
  corruptions.push_back(wrong_version.SerializeAsString());

  for (const std::string& bytes : corruptions) {
    ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
    auto read = ReadStateFile(path);
    EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
    auto store = StateStore::Open(dir);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(store.status().message().find(path), std::string::npos);
  }
}

TEST(StateStoreTest, EmptyDirIsInvalid) {
  EXPECT_EQ(StateStore::Open("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace updraft::device
