#ifndef UPDRAFT_TOOLS_UPDRAFTCTL_CAMPAIGN_COMMANDS_H_
#define UPDRAFT_TOOLS_UPDRAFTCTL_CAMPAIGN_COMMANDS_H_

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "tools/updraftctl/commands.h"
#include "updraft/v1/campaign.pb.h"

namespace updraft::ctl {

// Campaign and webhook commands over CampaignAdmin (see docs/campaigns.md).
// Each prints a human-readable table, or one JSON object per line with
// stubs.json.

// --name --release_id (--device_id ... | --devices_file | --group ... |
// --model/--carrier/--min_os_version/--max_os_version) --wave=10% --wave=500
// [--success_threshold=0.95] [--error_threshold=0.05] [--channel=ip_push ...]
// [--ttl=720h] [--quiet_hours=22:00-07:00] [--time_zone=Europe/Paris]
// [--jitter=10m] [--max_retries=N] [--retry_delay=10m]
absl::Status CampaignCreate(const Args& args, Stubs& stubs, FILE* out);
absl::Status CampaignList(const Args& args, Stubs& stubs, FILE* out);
absl::Status CampaignShow(const Args& args, Stubs& stubs, FILE* out);
absl::Status CampaignPause(const Args& args, Stubs& stubs, FILE* out);
absl::Status CampaignResume(const Args& args, Stubs& stubs, FILE* out);
absl::Status CampaignCancel(const Args& args, Stubs& stubs, FILE* out);
// Streams events and a progress bar per wave until the campaign ends:
// OK when it completed, FAILED_PRECONDITION when cancelled or expired.
absl::Status CampaignWatch(const Args& args, Stubs& stubs, FILE* out);
absl::Status WebhookCreate(const Args& args, Stubs& stubs, FILE* out);
absl::Status WebhookList(const Args& args, Stubs& stubs, FILE* out);
absl::Status WebhookDelete(const Args& args, Stubs& stubs, FILE* out);

// Builds a CampaignSpec from create flags; INVALID_ARGUMENT naming the flag.
absl::Status ParseCampaignSpec(const Args& args, v1::CampaignSpec* spec);
// "[#####xx---          ]": installed '#', failed 'x', in flight '-'.
std::string ProgressBar(const v1::WaveProgress& wave, int width);
// The campaign's summary and one line per wave.
std::string RenderCampaign(const v1::Campaign& campaign);

}  // namespace updraft::ctl

#endif  // UPDRAFT_TOOLS_UPDRAFTCTL_CAMPAIGN_COMMANDS_H_
