#include "common/service_main.h"

#include <cstdio>
#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace updraft {
namespace {

// Runs `fn` with a logger writing into a buffer; returns what it wrote.
template <typename Fn>
std::string Logged(Fn fn) {
  FakeClock clock;
  char buf[1024] = {};
  FILE* f = fmemopen(buf, sizeof(buf) - 1, "w");
  {
    Logger logger("test", &clock, f);
    fn(logger);
  }
  fclose(f);
  return std::string(buf);
}

TEST(LogLevelOrExitTest, ReturnsTheNamedLevel) {
  EXPECT_EQ(LogLevelOrExit("debug"), Logger::Level::kDebug);
  EXPECT_EQ(LogLevelOrExit("WARNING"), Logger::Level::kWarning);
  EXPECT_EQ(LogLevelOrExit("error"), Logger::Level::kError);
}

TEST(LogLevelOrExitTest, ExitsWithStatusTwoOnABadLevel) {
  EXPECT_EXIT(LogLevelOrExit("loud"), ::testing::ExitedWithCode(2),
              "--log_level must be debug, info, warning or error");
  EXPECT_EXIT(LogLevelOrExit(""), ::testing::ExitedWithCode(2), "--log_level");
}

TEST(ParseRedisFlagTest, SplitsHostAndPort) {
  std::string host;
  int port = 0;
  std::string out = Logged(
      [&](Logger& logger) { EXPECT_TRUE(ParseRedisFlag("10.0.0.5:6380", logger, &host, &port)); });
  EXPECT_EQ(host, "10.0.0.5");
  EXPECT_EQ(port, 6380);
  EXPECT_EQ(out, "");
}

TEST(ParseRedisFlagTest, LogsABadValueUnderTheGivenField) {
  std::string host;
  int port = 0;
  std::string out = Logged([&](Logger& logger) {
    EXPECT_FALSE(ParseRedisFlag("no-port", logger, &host, &port));
    EXPECT_FALSE(ParseRedisFlag("h:99999", logger, &host, &port, "value"));
  });
  EXPECT_NE(out.find("\"msg\":\"--redis must be host:port\",\"redis\":\"no-port\""),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\"msg\":\"--redis must be host:port\",\"value\":\"h:99999\""),
            std::string::npos)
      << out;
}

TEST(ParseOptionalRedisFlagTest, EmptyMeansNoRedis) {
  std::optional<RedisClient::Options> redis = RedisClient::Options{};
  Logged([&](Logger& logger) { EXPECT_TRUE(ParseOptionalRedisFlag("", logger, &redis)); });
  EXPECT_FALSE(redis.has_value());
}

TEST(ParseOptionalRedisFlagTest, ParsesOrRefuses) {
  std::optional<RedisClient::Options> redis;
  std::string out = Logged([&](Logger& logger) {
    EXPECT_TRUE(ParseOptionalRedisFlag("127.0.0.1:63799", logger, &redis));
    ASSERT_TRUE(redis.has_value());
    EXPECT_EQ(redis->host, "127.0.0.1");
    EXPECT_EQ(redis->port, 63799);
    EXPECT_FALSE(ParseOptionalRedisFlag("127.0.0.1:", logger, &redis));
  });
  EXPECT_NE(out.find("\"redis\":\"127.0.0.1:\""), std::string::npos) << out;
}

}  // namespace
}  // namespace updraft
