#include "services/auth/signing_key.h"

#include <stdio.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

class SigningKeyTest : public ::testing::Test {
 protected:
  SigningKeyTest() : logger_("auth", &clock_, tmpfile()) {}

  std::string TempPath(const std::string& name) {
    const char* dir = getenv("TEST_TMPDIR");
    std::string path = std::string(dir ? dir : "/tmp") + "/" + name;
    remove(path.c_str());
    return path;
  }

  FakeClock clock_;
  Logger logger_;
};

TEST_F(SigningKeyTest, MissingFileIsCreatedWithMode0600AndReloads) {
  std::string path = TempPath("new_key");
  auto created = LoadOrCreateSigningKey(path, &logger_);
  ASSERT_TRUE(created.ok()) << created.status();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  auto loaded = LoadOrCreateSigningKey(path, &logger_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->private_key(), created->private_key());
  EXPECT_EQ(loaded->public_key(), created->public_key());
}

TEST_F(SigningKeyTest, LoadsAnExistingKey) {
  std::string path = TempPath("existing_key");
  auto key = Ed25519KeyPair::Generate();
  ASSERT_TRUE(WriteKeyFile(path, key->private_key()).ok());
  auto loaded = LoadOrCreateSigningKey(path, &logger_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->public_key(), key->public_key());
}

TEST_F(SigningKeyTest, BadFilesAreErrorsNamingTheFile) {
  std::string path = TempPath("bad_key");
  for (const std::string& content :
       {std::string("not base64 !!!"), absl::WebSafeBase64Escape(std::string(31, 'k')),
        std::string("")}) {
    std::ofstream(path) << content;
    auto loaded = LoadOrCreateSigningKey(path, &logger_);
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument) << content;
    EXPECT_NE(loaded.status().message().find(path), absl::string_view::npos) << loaded.status();
  }
}

TEST_F(SigningKeyTest, EmptyPathIsInvalid) {
  EXPECT_EQ(LoadOrCreateSigningKey("", &logger_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SigningKeyTest, UnwritableDirectoryIsAnError) {
  auto loaded = LoadOrCreateSigningKey(TempPath("no_such_dir") + "/key", &logger_);
  EXPECT_FALSE(loaded.ok());
}

}  // namespace
}  // namespace updraft
