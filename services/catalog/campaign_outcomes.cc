#include "services/catalog/campaign_outcomes.h"

#include "absl/hash/hash.h"
#include "common/status_util.h"

namespace updraft::catalog {
namespace {

constexpr size_t kMaxAttributeFingerprints = 200000;

}  // namespace

absl::Status CampaignOutcomes::RefreshReleases() {
  UPDRAFT_ASSIGN_OR_RETURN(ActiveReleaseSet active, options_.store->ActiveReleases());
  absl::MutexLock lock(&mu_);
  active_releases_.emplace(active.all.begin(), active.all.end());
  gated_releases_ = absl::flat_hash_set<std::string>(active.gated.begin(), active.gated.end());
  return absl::OkStatus();
}

void CampaignOutcomes::AddRelease(const std::string& release_id, bool gated) {
  absl::MutexLock lock(&mu_);
  if (active_releases_.has_value()) active_releases_->insert(release_id);
  if (gated) gated_releases_.insert(release_id);
}

bool CampaignOutcomes::MayOffer(const std::string& device_id, const std::string& release_id) {
  {
    absl::MutexLock lock(&mu_);
    if (!gated_releases_.contains(release_id)) return true;
  }
  absl::StatusOr<bool> started = options_.store->InStartedWave(device_id, release_id);
  if (!started.ok()) {
    Log("staged offer refused: campaign state unreadable", device_id, started.status());
    return false;
  }
  return *started;
}

void CampaignOutcomes::OnCheck(const std::string& device_id, const v1::DeviceAttributes& attributes,
                               const std::vector<std::string>& offered_release_ids) {
  const absl::Time now = options_.clock->Now();
  uint64_t fingerprint = absl::HashOf(attributes.model(), attributes.os_version(),
                                      attributes.carrier(), attributes.time_zone());
  bool changed;
  {
    absl::MutexLock lock(&mu_);
    auto it = attributes_seen_.find(device_id);
    changed = it == attributes_seen_.end() || it->second != fingerprint;
  }
  if (changed) {
    absl::Status s = options_.store->PutAttributes(device_id, attributes, now);
    if (s.ok()) {
      absl::MutexLock lock(&mu_);
      if (attributes_seen_.size() >= kMaxAttributeFingerprints) attributes_seen_.clear();
      attributes_seen_[device_id] = fingerprint;
    } else {
      Log("device attributes not stored", device_id, s);
    }
  }
  std::vector<std::string> in_campaigns;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& id : offered_release_ids) {
      if (!active_releases_.has_value() || active_releases_->contains(id)) {
        in_campaigns.push_back(id);
      }
    }
  }
  if (in_campaigns.empty()) return;
  auto r = options_.store->RecordOutcome(
      device_id, in_campaigns, {v1::CAMPAIGN_DEVICE_PENDING, v1::CAMPAIGN_DEVICE_NOTIFIED},
      v1::CAMPAIGN_DEVICE_DOWNLOADING, v1::CAMPAIGN_EVENT_DEVICE_DOWNLOADING,
      v1::RESULT_CODE_UNSPECIFIED, now);
  if (!r.ok()) Log("campaign outcome not recorded", device_id, r.status());
}

void CampaignOutcomes::OnReport(const std::string& device_id, const std::string& release_id,
                                v1::ResultCode result) {
  const bool success = result == v1::SUCCESS;
  std::vector<v1::CampaignDeviceState> from = {
      v1::CAMPAIGN_DEVICE_PENDING, v1::CAMPAIGN_DEVICE_NOTIFIED, v1::CAMPAIGN_DEVICE_DOWNLOADING};
  if (success) {
    from.push_back(v1::CAMPAIGN_DEVICE_QUEUED);
    from.push_back(v1::CAMPAIGN_DEVICE_FAILED);
  }
  auto r = options_.store->RecordOutcome(
      device_id, {release_id}, from,
      success ? v1::CAMPAIGN_DEVICE_INSTALLED : v1::CAMPAIGN_DEVICE_FAILED,
      success ? v1::CAMPAIGN_EVENT_DEVICE_INSTALLED : v1::CAMPAIGN_EVENT_DEVICE_FAILED, result,
      options_.clock->Now());
  if (!r.ok()) Log("campaign outcome not recorded", device_id, r.status());
}

void CampaignOutcomes::Log(absl::string_view message, const std::string& id,
                           const absl::Status& s) {
  if (options_.logger == nullptr) return;
  options_.logger->Warning(std::string(message), {{"id", id}, {"error", s.ToString()}});
}

}  // namespace updraft::catalog
