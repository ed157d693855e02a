#include "sdk/device/file_key_store.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdk/device/file_util.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

TEST(FileKeyStoreTest, MissingKeyIsNotFound) {
  std::string dir = testutil::NewTempDir("keys");
  FileKeyStore store(absl::StrCat(dir, "/device.key"));
  EXPECT_EQ(store.Load().status().code(), absl::StatusCode::kNotFound);
}

TEST(FileKeyStoreTest, GeneratesOnceAndLoadsTheSameKey) {
  std::string dir = testutil::NewTempDir("keys");
  std::string path = absl::StrCat(dir, "/device.key");
  FileKeyStore store(path);
  absl::StatusOr<Ed25519KeyPair> first = store.LoadOrGenerate();
  ASSERT_TRUE(first.ok()) << first.status();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  FileKeyStore reopened(path);
  absl::StatusOr<Ed25519KeyPair> again = reopened.LoadOrGenerate();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->public_key(), first->public_key());
  auto sig = again->Sign("hello");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Ed25519Verify(first->public_key(), "hello", *sig));
}

TEST(FileKeyStoreTest, GenerateNeverReplacesAKey) {
  std::string dir = testutil::NewTempDir("keys");
  FileKeyStore store(absl::StrCat(dir, "/device.key"));
  ASSERT_TRUE(store.Generate().ok());
  EXPECT_EQ(store.Generate().status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(FileKeyStoreTest, WrongLengthKeyIsDataLoss) {
  std::string dir = testutil::NewTempDir("keys");
  std::string path = absl::StrCat(dir, "/device.key");
  ASSERT_TRUE(WriteKeyFile(path, "short").ok());
  FileKeyStore store(path);
  EXPECT_EQ(store.Load().status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store.LoadOrGenerate().status().code(), absl::StatusCode::kDataLoss);
}

TEST(FileKeyStoreTest, GarbageKeyFileIsAnError) {
  std::string dir = testutil::NewTempDir("keys");
  std::string path = absl::StrCat(dir, "/device.key");
  ASSERT_TRUE(WriteFileAtomically(path, "!!! not base64 !!!").ok());
  FileKeyStore store(path);
  EXPECT_FALSE(store.Load().ok());
}

}  // namespace
}  // namespace updraft::device
