#include "services/catalog/campaign_validation.h"

#include <optional>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/semver.h"
#include "common/status_util.h"
#include "services/catalog/validation.h"

namespace updraft::catalog {
namespace {

constexpr int kMaxFilterValues = 256;
constexpr int kMinutesPerDay = 24 * 60;

absl::Status ValidateTargets(const v1::TargetSet& t) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDistinctTexts("spec.targets.device_ids", t.device_ids(),
                                                kMaxCampaignDeviceIds, kMaxDeviceIdLength));
  UPDRAFT_RETURN_IF_ERROR(
      ValidateDistinctTexts("spec.targets.groups", t.groups(), kMaxCampaignGroups, kMaxNameLength));
  const v1::AttributeFilter& f = t.filter();
  UPDRAFT_RETURN_IF_ERROR(ValidateDistinctTexts("spec.targets.filter.models", f.models(),
                                                kMaxFilterValues, kMaxAttributeLength));
  UPDRAFT_RETURN_IF_ERROR(ValidateDistinctTexts("spec.targets.filter.carriers", f.carriers(),
                                                kMaxFilterValues, kMaxAttributeLength));
  std::optional<SemVer> min, max;
  UPDRAFT_RETURN_IF_ERROR(
      ParseOsBound("spec.targets.filter.min_os_version", f.min_os_version(), &min));
  UPDRAFT_RETURN_IF_ERROR(
      ParseOsBound("spec.targets.filter.max_os_version", f.max_os_version(), &max));
  if (min.has_value() && max.has_value() && *min > *max) {
    return absl::InvalidArgumentError(
        "spec.targets.filter.min_os_version is above spec.targets.filter.max_os_version");
  }
  bool has_filter = f.models_size() > 0 || f.carriers_size() > 0 || !f.min_os_version().empty() ||
                    !f.max_os_version().empty();
  if (t.device_ids_size() == 0 && t.groups_size() == 0 && !has_filter) {
    return absl::InvalidArgumentError("spec.targets is empty: give device_ids, groups or a filter");
  }
  return absl::OkStatus();
}

absl::Status ValidateFraction(absl::string_view field, double v) {
  if (!(v > 0.0 && v <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be a fraction in (0, 1], got ", v));
  }
  return absl::OkStatus();
}

absl::Status ValidateSeconds(absl::string_view field, int64_t v, absl::Duration max) {
  if (v < 0 || v > absl::ToInt64Seconds(max)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be between 0 and ", absl::ToInt64Seconds(max), ", got ", v));
  }
  return absl::OkStatus();
}

absl::TimeZone ZoneOf(const v1::QuietHours& quiet, const std::string& zone) {
  absl::TimeZone tz = absl::UTCTimeZone();
  if (zone.empty() || !absl::LoadTimeZone(zone, &tz)) {
    if (quiet.default_time_zone().empty() || !absl::LoadTimeZone(quiet.default_time_zone(), &tz)) {
      tz = absl::UTCTimeZone();
    }
  }
  return tz;
}

}  // namespace

absl::Status ValidateCampaignSpec(const v1::CampaignSpec& spec) {
  UPDRAFT_RETURN_IF_ERROR(ValidateText("spec.name", spec.name(), kMaxNameLength, true));
  UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("spec.release_id", spec.release_id(), kMaxIdLength));
  UPDRAFT_RETURN_IF_ERROR(ValidateTargets(spec.targets()));
  if (spec.waves_size() < 1 || spec.waves_size() > kMaxCampaignWaves) {
    return absl::InvalidArgumentError(absl::StrCat("spec.waves must list 1 to ", kMaxCampaignWaves,
                                                   " waves, got ", spec.waves_size()));
  }
  for (int i = 0; i < spec.waves_size(); ++i) {
    const v1::Wave& w = spec.waves(i);
    if ((w.percent() == 0) == (w.count() == 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("spec.waves[", i, "]: set exactly one of percent and count"));
    }
    if (w.percent() > 100) {
      return absl::InvalidArgumentError(
          absl::StrCat("spec.waves[", i, "].percent must be 1 to 100, got ", w.percent()));
    }
  }
  UPDRAFT_RETURN_IF_ERROR(ValidateFraction("spec.success_threshold", spec.success_threshold()));
  UPDRAFT_RETURN_IF_ERROR(ValidateFraction("spec.error_threshold", spec.error_threshold()));
  absl::flat_hash_set<int> channels;
  for (int i = 0; i < spec.channels_size(); ++i) {
    int c = spec.channels(i);
    if (!v1::Channel_IsValid(c) || c == v1::CHANNEL_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("spec.channels[", i, "] is not a delivery channel"));
    }
    if (!channels.insert(c).second) {
      return absl::InvalidArgumentError(absl::StrCat("spec.channels[", i, "] is listed twice"));
    }
  }
  UPDRAFT_RETURN_IF_ERROR(
      ValidateSeconds("spec.ttl_seconds", spec.ttl_seconds(), absl::Hours(24 * 365)));
  UPDRAFT_RETURN_IF_ERROR(
      ValidateSeconds("spec.jitter_seconds", spec.jitter_seconds(), absl::Hours(24)));
  UPDRAFT_RETURN_IF_ERROR(
      ValidateSeconds("spec.retry_delay_seconds", spec.retry_delay_seconds(), absl::Hours(24 * 7)));
  if (spec.max_retries() > kMaxCampaignRetries) {
    return absl::InvalidArgumentError(absl::StrCat(
        "spec.max_retries must be at most ", kMaxCampaignRetries, ", got ", spec.max_retries()));
  }
  const v1::QuietHours& q = spec.quiet_hours();
  if (q.start_minute() >= kMinutesPerDay || q.end_minute() >= kMinutesPerDay) {
    return absl::InvalidArgumentError(
        "spec.quiet_hours start_minute and end_minute must be below 1440 (minutes after "
        "midnight)");
  }
  UPDRAFT_RETURN_IF_ERROR(ValidateText("spec.quiet_hours.default_time_zone", q.default_time_zone(),
                                       kMaxNameLength, false));
  absl::TimeZone tz;
  if (!q.default_time_zone().empty() && !absl::LoadTimeZone(q.default_time_zone(), &tz)) {
    return absl::InvalidArgumentError(absl::StrCat("spec.quiet_hours.default_time_zone \"",
                                                   q.default_time_zone(),
                                                   "\" is not an IANA time zone"));
  }
  return absl::OkStatus();
}

bool InQuietWindow(int minute, int start, int end) {
  if (start == end) return false;
  if (start < end) return minute >= start && minute < end;
  return minute >= start || minute < end;
}

absl::Time NextAllowedTime(const v1::QuietHours& quiet, const std::string& zone, absl::Time now) {
  const int start = static_cast<int>(quiet.start_minute());
  const int end = static_cast<int>(quiet.end_minute());
  absl::TimeZone tz = ZoneOf(quiet, zone);
  absl::CivilMinute local = absl::ToCivilMinute(now, tz);
  int minute = local.hour() * 60 + local.minute();
  if (!InQuietWindow(minute, start, end)) return now;
  int wait = (end - minute + kMinutesPerDay) % kMinutesPerDay;
  absl::Time next = absl::FromCivil(local + wait, tz);
  return next > now ? next : now + absl::Minutes(1);
}

}  // namespace updraft::catalog
