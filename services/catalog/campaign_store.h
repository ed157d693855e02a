#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_STORE_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "updraft/v1/campaign.pb.h"
#include "updraft/v1/catalog.pb.h"

namespace updraft::catalog {

// A target device entering a campaign.
struct NewCampaignDevice {
  std::string device_id;
  // Random order in which queued devices enter waves.
  int64_t rank = 0;
};

// A device due for its announcement, with its time zone attribute ("" when
// unknown) and how many times it was retried in the campaign (each retry
// after a failure, automatic or on resume, adds one).
struct DueDevice {
  std::string device_id;
  int wave = 0;
  std::string time_zone;
  int attempts = 0;
};

// Device counts of a campaign: [wave][state]. Wave 0 holds queued devices
// (and devices that installed before entering a wave).
using CampaignCounts = std::map<int, std::map<v1::CampaignDeviceState, int64_t>>;

// A campaign (without progress counters) and its device counts.
struct ListedCampaign {
  v1::Campaign campaign;
  CampaignCounts counts;
};

// A device's latest attributes as learned from its update checks.
struct DeviceAttributeRow {
  std::string device_id;
  std::string os_version;
};

// Releases of active campaigns (CampaignStore::ActiveReleases).
struct ActiveReleaseSet {
  std::vector<std::string> all;
  std::vector<std::string> gated;
};

// Operations on one campaign while its lock is held (see
// CampaignStore::WithCampaign). Every write becomes visible at once when
// the transaction commits, or not at all.
class CampaignTxn {
 public:
  virtual ~CampaignTxn() = default;

  // The campaign (spec, state, wave; no progress counters).
  virtual const v1::Campaign& campaign() const = 0;
  // Writes state, state_reason, current_wave and updated_at.
  virtual absl::Status Save(const v1::Campaign& campaign) = 0;
  virtual absl::StatusOr<CampaignCounts> Counts() = 0;
  // Adds devices not yet in the campaign, in `wave` (0: queued) and `state`
  // with notify_at `now`. Returns how many were new.
  virtual absl::StatusOr<int> AddDevices(const std::vector<NewCampaignDevice>& devices, int wave,
                                         v1::CampaignDeviceState state, absl::Time now) = 0;
  // Up to `limit` queued devices, lowest rank first.
  virtual absl::StatusOr<std::vector<std::string>> Queued(int limit) = 0;
  // Moves devices into `wave` as PENDING, each announced at its notify_at.
  virtual absl::Status StartDevices(const std::vector<std::pair<std::string, absl::Time>>& devices,
                                    int wave, absl::Time now) = 0;
  // PENDING devices with notify_at <= now, earliest first, at most `limit`.
  virtual absl::StatusOr<std::vector<DueDevice>> Due(absl::Time now, int limit) = 0;
  // PENDING devices: a later notify_at (quiet hours).
  virtual absl::Status Defer(const std::vector<std::pair<std::string, absl::Time>>& devices) = 0;
  // PENDING -> NOTIFIED.
  virtual absl::Status MarkNotified(const std::vector<std::string>& device_ids, absl::Time now) = 0;
  // FAILED devices (in a wave) with attempts < max_attempts whose failure is
  // at or before `failed_before` -> PENDING at `now`, attempts + 1. Returns
  // them.
  virtual absl::StatusOr<std::vector<DueDevice>> Retry(int max_attempts, absl::Time failed_before,
                                                       absl::Time now) = 0;
  // Records an event (event_id assigned) and queues it for the webhooks.
  virtual absl::Status AddEvent(const v1::CampaignEvent& event, absl::Time now) = 0;
};

// What an outcome report changed: the events written (with IDs).
struct OutcomeResult {
  std::vector<v1::CampaignEvent> events;
};

// Durable campaign state (PostgreSQL in production, see PgCampaignStore).
// Callers validate; every call is atomic.
class CampaignStore {
 public:
  virtual ~CampaignStore() = default;

  // Stores a new campaign with its CREATED event. NOT_FOUND for an unknown
  // release.
  virtual absl::Status Create(const v1::Campaign& campaign, const v1::CampaignEvent& created,
                              absl::Time now) = 0;
  // NOT_FOUND "campaign X not found". Without progress counters.
  virtual absl::StatusOr<v1::Campaign> Get(const std::string& campaign_id) = 0;
  virtual absl::StatusOr<CampaignCounts> Counts(const std::string& campaign_id) = 0;
  // Ordered by campaign ID, after `after`, at most `limit`, each with its
  // device counts (read together: a page of 1,000 campaigns is two queries).
  virtual absl::StatusOr<std::vector<ListedCampaign>> List(const std::string& after, int limit) = 0;
  // IDs of RUNNING campaigns.
  virtual absl::StatusOr<std::vector<std::string>> Running() = 0;
  // Release IDs of RUNNING or PAUSED campaigns (those RecordOutcome can
  // change), and among them those of campaigns with gate_offers.
  virtual absl::StatusOr<ActiveReleaseSet> ActiveReleases() = 0;
  // True when the device is in a started wave (any state but QUEUED) of a
  // RUNNING or PAUSED campaign of `release_id`.
  virtual absl::StatusOr<bool> InStartedWave(const std::string& device_id,
                                             const std::string& release_id) = 0;
  // Runs `fn` in one transaction holding the campaign's lock; commits iff it
  // returns OK. With `wait` false, returns false without running `fn` when
  // another replica holds the lock. NOT_FOUND for an unknown campaign.
  virtual absl::StatusOr<bool> WithCampaign(
      const std::string& campaign_id, bool wait,
      const std::function<absl::Status(CampaignTxn&)>& fn) = 0;
  // A device's outcome for `release_id` in every RUNNING or PAUSED campaign
  // of that release where the device is in one of `from` states: its state
  // becomes `to` (with `result`), and an event of `type` is written.
  virtual absl::StatusOr<OutcomeResult> RecordOutcome(
      const std::string& device_id, const std::vector<std::string>& release_ids,
      const std::vector<v1::CampaignDeviceState>& from, v1::CampaignDeviceState to,
      v1::CampaignEventType type, v1::ResultCode result, absl::Time now) = 0;
  // Events of a campaign after `after_event_id`, oldest first, at most
  // `limit`. IDs are assigned before commit, so an event with a lower ID may
  // still appear later: when `settled_through` is set, it receives the
  // highest returned ID below which no new event will appear (events older
  // than a few seconds), or `after_event_id`.
  virtual absl::StatusOr<std::vector<v1::CampaignEvent>> Events(
      const std::string& campaign_id, int64_t after_event_id, int limit,
      int64_t* settled_through = nullptr) = 0;

  // Keeps a device's attributes; a no-op write when unchanged.
  virtual absl::Status PutAttributes(const std::string& device_id,
                                     const v1::DeviceAttributes& attributes, absl::Time now) = 0;
  // Devices with known attributes ordered by ID after `after`, at most
  // `limit`, restricted to `models` and `carriers` when not empty.
  virtual absl::StatusOr<std::vector<DeviceAttributeRow>> MatchAttributes(
      const std::vector<std::string>& models, const std::vector<std::string>& carriers,
      const std::string& after, int limit) = 0;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_STORE_H_
