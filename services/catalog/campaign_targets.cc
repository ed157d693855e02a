#include "services/catalog/campaign_targets.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/semver.h"
#include "common/status_util.h"
#include "services/catalog/campaign_progress.h"
#include "services/catalog/update_decider.h"

namespace updraft::catalog {
namespace {

constexpr int kResolvePage = 1000;

}  // namespace

absl::Status CampaignTargets::Resolve(CampaignTxn& txn, absl::Time now) {
  const v1::Campaign& c = txn.campaign();
  {
    absl::MutexLock lock(&mu_);
    auto it = last_resolved_.find(c.campaign_id());
    if (it != last_resolved_.end() && now < it->second + options_.resolve_interval) {
      return absl::OkStatus();
    }
  }
  const v1::TargetSet& t = c.spec().targets();
  std::vector<std::string> ids(t.device_ids().begin(), t.device_ids().end());
  for (const std::string& group : t.groups()) {
    UPDRAFT_ASSIGN_OR_RETURN(std::vector<std::string> members,
                             ListAllMembers(*options_.groups, group));
    ids.insert(ids.end(), std::make_move_iterator(members.begin()),
               std::make_move_iterator(members.end()));
  }
  const v1::AttributeFilter& f = t.filter();
  if (f.models_size() > 0 || f.carriers_size() > 0 || !f.min_os_version().empty() ||
      !f.max_os_version().empty()) {
    // Models and carriers are matched by MatchAttributes; the OS range here.
    CompatibilityRules os_range;
    if (!f.min_os_version().empty()) os_range.min_os = *ParseOsVersion(f.min_os_version());
    if (!f.max_os_version().empty()) os_range.max_os = *ParseOsVersion(f.max_os_version());
    const bool has_os_range = os_range.min_os.has_value() || os_range.max_os.has_value();
    std::vector<std::string> models(f.models().begin(), f.models().end());
    std::vector<std::string> carriers(f.carriers().begin(), f.carriers().end());
    std::string after;
    while (true) {
      UPDRAFT_ASSIGN_OR_RETURN(
          std::vector<DeviceAttributeRow> page,
          options_.store->MatchAttributes(models, carriers, after, kResolvePage));
      for (const DeviceAttributeRow& row : page) {
        if (has_os_range) {
          std::optional<SemVer> os;
          if (auto v = ParseOsVersion(row.os_version); v.ok()) os = *std::move(v);
          if (!os_range.Matches({}, os)) continue;
        }
        ids.push_back(row.device_id);
      }
      if (static_cast<int>(page.size()) < kResolvePage) break;
      after = page.back().device_id;
    }
  }
  std::vector<NewCampaignDevice> devices;
  devices.reserve(ids.size());
  for (std::string& id : ids) {
    devices.push_back({std::move(id), static_cast<int64_t>(options_.random() >> 1)});
  }
  const bool last_wave_started = c.current_wave() == static_cast<uint32_t>(c.spec().waves_size());
  UPDRAFT_RETURN_IF_ERROR(
      txn.AddDevices(devices, last_wave_started ? c.current_wave() : 0,
                     last_wave_started ? v1::CAMPAIGN_DEVICE_PENDING : v1::CAMPAIGN_DEVICE_QUEUED,
                     now)
          .status());
  absl::MutexLock lock(&mu_);
  last_resolved_[c.campaign_id()] = now;
  return absl::OkStatus();
}

absl::Status CampaignTargets::StartWave(CampaignTxn& txn, v1::Campaign& c,
                                        const CampaignCounts& counts, absl::Time now) {
  const int next = static_cast<int>(c.current_wave()) + 1;
  const v1::Wave& wave = c.spec().waves(next - 1);
  int64_t total = 0;
  for (const auto& [w, states] : counts) total += CampaignDevicesIn(states);
  const int64_t queued = CampaignDeviceCount(counts, 0, v1::CAMPAIGN_DEVICE_QUEUED);
  int64_t n = queued;
  if (next < c.spec().waves_size()) {
    n = wave.percent() > 0 ? static_cast<int64_t>(std::ceil(total * wave.percent() / 100.0))
                           : static_cast<int64_t>(wave.count());
    n = std::min(n, queued);
  }
  UPDRAFT_ASSIGN_OR_RETURN(std::vector<std::string> ids, txn.Queued(static_cast<int>(n)));
  std::vector<std::pair<std::string, absl::Time>> start;
  start.reserve(ids.size());
  const int64_t jitter_ms = c.spec().jitter_seconds() * 1000;
  for (std::string& id : ids) {
    absl::Time at = now;
    if (jitter_ms > 0) at += absl::Milliseconds(options_.random() % jitter_ms);
    start.emplace_back(std::move(id), at);
  }
  UPDRAFT_RETURN_IF_ERROR(txn.StartDevices(start, next, now));
  c.set_current_wave(next);
  c.set_updated_at_unix(absl::ToUnixSeconds(now));
  UPDRAFT_RETURN_IF_ERROR(txn.Save(c));
  v1::CampaignEvent e = NewCampaignEvent(c, v1::CAMPAIGN_EVENT_WAVE_STARTED, now);
  e.set_message(
      absl::StrCat("wave ", next, " of ", c.spec().waves_size(), ": ", start.size(), " devices"));
  return txn.AddEvent(e, now);
}

}  // namespace updraft::catalog
