#include "tools/fleet_sim/summary.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace updraft::fleet_sim {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

PhaseStats Upgrade() {
  PhaseStats p;
  p.name = "active_upgrade";
  for (int i = 1; i <= 100; ++i)
    p.Add(i == 100 ? "failed_1407" : "installed", absl::Milliseconds(i));
  p.wall = absl::Seconds(2);
  return p;
}

TEST(SummaryTest, Percentiles) {
  PhaseStats p = Upgrade();
  EXPECT_DOUBLE_EQ(p.PercentileMs(50), 50);
  EXPECT_DOUBLE_EQ(p.PercentileMs(99), 99);
  EXPECT_DOUBLE_EQ(p.PercentileMs(100), 100);
  EXPECT_DOUBLE_EQ(PhaseStats().PercentileMs(50), 0);
}

TEST(SummaryTest, TextCountsOutcomesAndPercentiles) {
  std::string text = SummaryText(100, {Upgrade()}, 98);
  EXPECT_THAT(text, HasSubstr("fleet: 100 devices\n"));
  EXPECT_THAT(text, HasSubstr("active_upgrade: failed_1407 1, installed 99; p50 50.0 ms, p99 "
                              "99.0 ms (wall 2000.0 ms)"));
  EXPECT_THAT(text, HasSubstr("ip push streams open: 98"));
  EXPECT_THAT(SummaryText(1, {}, -1), Not(HasSubstr("streams")));
}

TEST(SummaryTest, Json) {
  EXPECT_EQ(SummaryJson(100, {Upgrade()}, 0),
            "{\"devices\":100,\"streams_open\":0,\"phases\":[{\"name\":\"active_upgrade\","
            "\"count\":100,\"outcomes\":{\"failed_1407\":1,\"installed\":99},\"p50_ms\":50.000,"
            "\"p99_ms\":99.000,\"wall_ms\":2000.000}]}\n");
}

TEST(SummaryTest, AllGood) {
  EXPECT_FALSE(AllGood({Upgrade()}));
  PhaseStats ok;
  ok.Add("installed", absl::Milliseconds(1));
  ok.Add("open", absl::Milliseconds(1));
  ok.Add("already_registered", absl::Milliseconds(1));
  EXPECT_TRUE(AllGood({ok}));
  ok.Add("login_unauthenticated", absl::Milliseconds(1));
  EXPECT_FALSE(AllGood({ok}));
}

}  // namespace
}  // namespace updraft::fleet_sim
