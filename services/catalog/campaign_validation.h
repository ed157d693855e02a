#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_VALIDATION_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_VALIDATION_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "updraft/v1/campaign.pb.h"

namespace updraft::catalog {

inline constexpr int kMaxCampaignWaves = 20;
inline constexpr int kMaxCampaignDeviceIds = 100000;
inline constexpr int kMaxCampaignGroups = 64;
inline constexpr int kMaxCampaignRetries = 10;
inline constexpr absl::Duration kDefaultCampaignTtl = absl::Hours(24 * 30);
inline constexpr absl::Duration kDefaultRetryDelay = absl::Minutes(10);

// Checks a CampaignSpec at the API boundary: INVALID_ARGUMENT naming the
// field (e.g. "spec.waves[2]: set exactly one of percent and count").
// Does not look the release up.
absl::Status ValidateCampaignSpec(const v1::CampaignSpec& spec);

// Whether local minute-of-day `minute` falls in [start, end), a window that
// may wrap past midnight; an empty window (start == end) never does.
bool InQuietWindow(int minute, int start, int end);

// When `now` is in the quiet hours of `quiet` in time zone `zone` (IANA
// name; "" or unknown: the default zone, then UTC): the first instant after
// them. Otherwise `now`.
absl::Time NextAllowedTime(const v1::QuietHours& quiet, const std::string& zone, absl::Time now);

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_VALIDATION_H_
