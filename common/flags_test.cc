#include "common/flags.h"

#include <cstdlib>

#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, updraft_test_port, 1, "for the test");
ABSL_FLAG(std::string, updraft_test_name, "x", "for the test");

namespace updraft {
namespace {

TEST(FlagsTest, EnvironmentNames) { EXPECT_EQ(EnvVarForFlag("pg_uri"), "UPDRAFT_PG_URI"); }

TEST(FlagsTest, EnvironmentSetsFlags) {
  setenv("UPDRAFT_UPDRAFT_TEST_PORT", "8443", 1);
  setenv("UPDRAFT_UPDRAFT_TEST_NAME", "catalog", 1);
  ASSERT_TRUE(ApplyFlagEnvironment().ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_updraft_test_port), 8443);
  EXPECT_EQ(absl::GetFlag(FLAGS_updraft_test_name), "catalog");
}

TEST(FlagsTest, BadValueNamesTheVariable) {
  setenv("UPDRAFT_UPDRAFT_TEST_PORT", "eighty", 1);
  absl::Status s = ApplyFlagEnvironment();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("UPDRAFT_UPDRAFT_TEST_PORT=eighty"), absl::string_view::npos);
  unsetenv("UPDRAFT_UPDRAFT_TEST_PORT");
}

TEST(FlagsTest, ParsesHostPort) {
  std::string host;
  int port = 0;
  EXPECT_TRUE(ParseHostPort("127.0.0.1:6379", &host, &port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 6379);
  for (const char* bad : {"", "6379", ":6379", "h:", "h:0", "h:65536", "h:x"}) {
    EXPECT_FALSE(ParseHostPort(bad, &host, &port)) << bad;
  }
}

}  // namespace
}  // namespace updraft
