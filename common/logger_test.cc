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

TEST(LoggerTest, EscapesControlBytesAndKeepsValidUtf8) {
  EXPECT_EQ(JsonEscape(std::string("a\x01\\", 3)), "a\\u0001\\\\");
  EXPECT_EQ(JsonEscape("Gr\xc3\xbc\xc3\x9f"
                       "e \xe2\x82\xac \xf0\x9f\x93\xb1"),
            "Gr\xc3\xbc\xc3\x9f"
            "e \xe2\x82\xac \xf0\x9f\x93\xb1");
}

TEST(LoggerTest, ReplacesInvalidUtf8) {
  // lone continuation, truncated sequence, overlong, surrogate
  EXPECT_EQ(JsonEscape("\x80"), "\\ufffd");
  EXPECT_EQ(JsonEscape("\xe2\x82"), "\\ufffd\\ufffd");
  EXPECT_EQ(JsonEscape("\xc0\xaf"), "\\ufffd\\ufffd");
  EXPECT_EQ(JsonEscape("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
  EXPECT_EQ(JsonEscape("\xf8\x88\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");
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
  EXPECT_EQ(ParseLogLevel("DEBUG"), Logger::Level::kDebug);
  EXPECT_EQ(ParseLogLevel("warning"), Logger::Level::kWarning);
  EXPECT_EQ(ParseLogLevel("error"), Logger::Level::kError);
  EXPECT_EQ(ParseLogLevel("nonsense"), Logger::Level::kInfo);
}

}  // namespace
}  // namespace updraft
