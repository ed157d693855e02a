#include "services/catalog/campaign_validation.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace updraft::catalog {
namespace {

v1::CampaignSpec Valid() {
  v1::CampaignSpec s;
  s.set_name("rollout");
  s.set_release_id("rel_1");
  s.mutable_targets()->add_device_ids("dev-1");
  s.add_waves()->set_percent(10);
  s.add_waves()->set_count(100);
  s.set_success_threshold(0.9);
  s.set_error_threshold(0.05);
  return s;
}

void ExpectInvalid(const v1::CampaignSpec& s, const std::string& field) {
  absl::Status st = ValidateCampaignSpec(s);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << field;
  EXPECT_TRUE(absl::StrContains(st.message(), field)) << st;
}

TEST(CampaignValidationTest, AcceptsAValidSpec) {
  EXPECT_TRUE(ValidateCampaignSpec(Valid()).ok()) << ValidateCampaignSpec(Valid());
}

TEST(CampaignValidationTest, RejectsEachBadField) {
  v1::CampaignSpec s = Valid();
  s.set_name("");
  ExpectInvalid(s, "spec.name");
  s = Valid();
  s.set_release_id("rel 1");
  ExpectInvalid(s, "spec.release_id");
  s = Valid();
  s.mutable_targets()->Clear();
  ExpectInvalid(s, "spec.targets is empty");
  s = Valid();
  s.mutable_targets()->add_device_ids("dev-1");
  ExpectInvalid(s, "spec.targets.device_ids");
  s = Valid();
  s.mutable_targets()->add_device_ids(std::string("a\0b", 3));
  ExpectInvalid(s, "spec.targets.device_ids[1]");
  s = Valid();
  s.mutable_targets()->mutable_filter()->set_min_os_version("banana");
  ExpectInvalid(s, "spec.targets.filter.min_os_version");
  s = Valid();
  s.mutable_targets()->mutable_filter()->set_min_os_version("14");
  s.mutable_targets()->mutable_filter()->set_max_os_version("13");
  ExpectInvalid(s, "min_os_version is above");
  s = Valid();
  s.clear_waves();
  ExpectInvalid(s, "spec.waves");
  s = Valid();
  s.mutable_waves(0)->set_count(5);
  ExpectInvalid(s, "spec.waves[0]: set exactly one");
  s = Valid();
  s.mutable_waves(0)->set_percent(101);
  ExpectInvalid(s, "spec.waves[0].percent");
  s = Valid();
  s.set_success_threshold(0);
  ExpectInvalid(s, "spec.success_threshold");
  s = Valid();
  s.set_error_threshold(-1);
  ExpectInvalid(s, "spec.error_threshold");
  s = Valid();
  s.add_channels(v1::CHANNEL_SMS);
  s.add_channels(v1::CHANNEL_SMS);
  ExpectInvalid(s, "spec.channels[1]");
  s = Valid();
  s.add_channels(static_cast<v1::Channel>(77));
  ExpectInvalid(s, "spec.channels[0]");
  s = Valid();
  s.set_ttl_seconds(-5);
  ExpectInvalid(s, "spec.ttl_seconds");
  s = Valid();
  s.set_jitter_seconds(86401);
  ExpectInvalid(s, "spec.jitter_seconds");
  s = Valid();
  s.set_max_retries(11);
  ExpectInvalid(s, "spec.max_retries");
  s = Valid();
  s.mutable_quiet_hours()->set_start_minute(1440);
  ExpectInvalid(s, "spec.quiet_hours");
  s = Valid();
  s.mutable_quiet_hours()->set_default_time_zone("Mars/Olympus");
  ExpectInvalid(s, "spec.quiet_hours.default_time_zone");
}

TEST(CampaignValidationTest, QuietWindowWrapsPastMidnight) {
  EXPECT_TRUE(InQuietWindow(23 * 60, 22 * 60, 7 * 60));
  EXPECT_TRUE(InQuietWindow(3 * 60, 22 * 60, 7 * 60));
  EXPECT_FALSE(InQuietWindow(7 * 60, 22 * 60, 7 * 60));
  EXPECT_FALSE(InQuietWindow(12 * 60, 22 * 60, 7 * 60));
  EXPECT_TRUE(InQuietWindow(13 * 60, 12 * 60, 14 * 60));
  EXPECT_FALSE(InQuietWindow(100, 5, 5));
}

TEST(CampaignValidationTest, NextAllowedTimeIsTheEndOfTheLocalQuietHours) {
  v1::QuietHours q;
  q.set_start_minute(22 * 60);
  q.set_end_minute(7 * 60);
  q.set_default_time_zone("Europe/Paris");
  // 2026-11-22 22:30:15 UTC = 23:30:15 in Paris (UTC+1).
  absl::Time now =
      absl::FromCivil(absl::CivilSecond(2026, 11, 22, 22, 30, 15), absl::UTCTimeZone());
  EXPECT_EQ(NextAllowedTime(q, "", now),
            absl::FromCivil(absl::CivilSecond(2026, 11, 23, 6, 0, 0), absl::UTCTimeZone()));
  // In Tokyo (UTC+9) it is 07:30: allowed.
  EXPECT_EQ(NextAllowedTime(q, "Asia/Tokyo", now), now);
  // An unknown device zone falls back to the default.
  EXPECT_EQ(NextAllowedTime(q, "Nowhere/City", now), NextAllowedTime(q, "", now));
}

}  // namespace
}  // namespace updraft::catalog
