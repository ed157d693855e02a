#include "common/logger.h"

#include "gtest/gtest.h"

namespace updraft {
namespace {

TEST(LoggerTest, FormatsOneJsonObjectPerLine) {
  FakeClock clock(absl::FromUnixMillis(1700000000123));
  Logger logger("catalog", &clock);
  EXPECT_EQ(logger.Format(Logger::Level::kInfo, "release \"x\" published", {{"id", "r\n1"}}),
            "{\"ts\":\"2023-11-14T22:13:20.123Z\",\"level\":\"info\",\"service\":\"catalog\","
            "\"msg\":\"release \\\"x\\\" published\",\"id\":\"r\\n1\"}\n");
}

TEST(LoggerTest, DropsLinesBelowMinimumLevel) {
  FakeClock clock;
  char buf[256] = {};
  FILE* f = fmemopen(buf, sizeof(buf), "w");
  Logger logger("auth", &clock, f, Logger::Level::kWarning);
  logger.Info("hidden");
  logger.Error("shown");
  fclose(f);
  std::string out(buf);
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find("shown"), std::string::npos);
}

TEST(LoggerTest, ParsesLevels) {
  Logger::Level level = Logger::Level::kInfo;
  EXPECT_TRUE(ParseLogLevel("DEBUG", &level));
  EXPECT_EQ(level, Logger::Level::kDebug);
  EXPECT_TRUE(ParseLogLevel("warning", &level));
  EXPECT_EQ(level, Logger::Level::kWarning);
  EXPECT_TRUE(ParseLogLevel("error", &level));
  EXPECT_EQ(level, Logger::Level::kError);
  EXPECT_FALSE(ParseLogLevel("nonsense", &level));
  EXPECT_EQ(level, Logger::Level::kError);
}

}  // namespace
}  // namespace updraft
