#include "services/catalog/pg_campaign_txn.h"

#include "absl/strings/str_cat.h"
#include "common/pg_pool.h"
#include "common/status_util.h"
#include "services/catalog/pg_campaign_rows.h"

namespace updraft::catalog {

absl::Status PgCampaignTxn::Save(const v1::Campaign& c) {
  txn_.exec_params(absl::StrCat("UPDATE campaigns SET state = $2, state_reason = $3,"
                                " current_wave = $4, updated_at = to_timestamp($5::bigint)"
                                " WHERE campaign_id = $1"),
                   c.campaign_id(), v1::CampaignState_Name(c.state()), c.state_reason(),
                   static_cast<int>(c.current_wave()), c.updated_at_unix());
  campaign_ = c;
  return absl::OkStatus();
}

absl::StatusOr<CampaignCounts> PgCampaignTxn::Counts() {
  return CampaignCountsFromRows(txn_.exec_params(kCampaignCountsSql, campaign_.campaign_id()));
}

absl::StatusOr<int> PgCampaignTxn::AddDevices(const std::vector<NewCampaignDevice>& devices,
                                              int wave, v1::CampaignDeviceState state,
                                              absl::Time now) {
  int added = 0;
  for (size_t start = 0; start < devices.size(); start += 5000) {
    std::vector<std::string> ids;
    std::vector<int64_t> ranks;
    for (size_t i = start; i < devices.size() && i < start + 5000; ++i) {
      ids.push_back(devices[i].device_id);
      ranks.push_back(devices[i].rank);
    }
    pqxx::result r = txn_.exec_params(
        absl::StrCat("INSERT INTO campaign_devices (campaign_id, device_id, wave, state, rank,"
                     " notify_at, updated_at) SELECT $1, x.id, $4, $5, x.rank, ",
                     PgTimestampParam(6), ", ", PgTimestampParam(6),
                     " FROM unnest($2::text[], $3::bigint[]) AS x(id, rank)"
                     " ON CONFLICT DO NOTHING"),
        campaign_.campaign_id(), PgTextArray(ids), PgBigintArray(ranks), wave,
        v1::CampaignDeviceState_Name(state), PgMicros(now));
    added += static_cast<int>(r.affected_rows());
  }
  return added;
}

absl::StatusOr<std::vector<std::string>> PgCampaignTxn::Queued(int limit) {
  std::vector<std::string> out;
  if (limit <= 0) return out;
  for (const pqxx::row& row :
       txn_.exec_params("SELECT device_id FROM campaign_devices WHERE campaign_id = $1 AND wave = 0"
                        " AND state = 'CAMPAIGN_DEVICE_QUEUED' ORDER BY rank, device_id LIMIT $2",
                        campaign_.campaign_id(), limit)) {
    out.push_back(row[0].as<std::string>());
  }
  return out;
}

absl::Status PgCampaignTxn::StartDevices(
    const std::vector<std::pair<std::string, absl::Time>>& devices, int wave, absl::Time now) {
  return Update(devices,
                absl::StrCat("wave = $4, state = 'CAMPAIGN_DEVICE_PENDING', updated_at = ",
                             PgTimestampParam(5)),
                "d.wave = 0 AND d.state = 'CAMPAIGN_DEVICE_QUEUED'", wave, PgMicros(now));
}

absl::StatusOr<std::vector<DueDevice>> PgCampaignTxn::Due(absl::Time now, int limit) {
  std::vector<DueDevice> out;
  for (const pqxx::row& row : txn_.exec_params(
           absl::StrCat("SELECT d.device_id, d.wave, coalesce(a.time_zone, ''), d.attempts"
                        " FROM campaign_devices d LEFT JOIN device_attributes a"
                        " ON a.device_id = d.device_id WHERE d.campaign_id = $1"
                        " AND d.state = 'CAMPAIGN_DEVICE_PENDING' AND d.notify_at <= ",
                        PgTimestampParam(2), " ORDER BY d.notify_at, d.device_id LIMIT $3"),
           campaign_.campaign_id(), PgMicros(now), limit)) {
    out.push_back(
        {row[0].as<std::string>(), row[1].as<int>(), row[2].as<std::string>(), row[3].as<int>()});
  }
  return out;
}

absl::Status PgCampaignTxn::Defer(const std::vector<std::pair<std::string, absl::Time>>& devices) {
  return Update(devices, "wave = wave", "d.state = 'CAMPAIGN_DEVICE_PENDING'", 0, 0);
}

absl::Status PgCampaignTxn::MarkNotified(const std::vector<std::string>& ids, absl::Time now) {
  txn_.exec_params(absl::StrCat("UPDATE campaign_devices SET state = 'CAMPAIGN_DEVICE_NOTIFIED',"
                                " updated_at = ",
                                PgTimestampParam(3),
                                " WHERE campaign_id = $1 AND device_id = ANY($2::text[])"
                                " AND state = 'CAMPAIGN_DEVICE_PENDING'"),
                   campaign_.campaign_id(), PgTextArray(ids), PgMicros(now));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DueDevice>> PgCampaignTxn::Retry(int max_attempts,
                                                            absl::Time failed_before,
                                                            absl::Time now) {
  std::vector<DueDevice> out;
  for (const pqxx::row& row : txn_.exec_params(
           absl::StrCat("UPDATE campaign_devices SET state = 'CAMPAIGN_DEVICE_PENDING',"
                        " attempts = attempts + 1, notify_at = ",
                        PgTimestampParam(4), ", updated_at = ", PgTimestampParam(4),
                        " WHERE campaign_id = $1 AND state = 'CAMPAIGN_DEVICE_FAILED'"
                        " AND wave > 0 AND attempts < $2 AND updated_at <= ",
                        PgTimestampParam(3), " RETURNING device_id, wave, attempts"),
           campaign_.campaign_id(), max_attempts, PgMicros(failed_before), PgMicros(now))) {
    out.push_back({row[0].as<std::string>(), row[1].as<int>(), "", row[2].as<int>()});
  }
  return out;
}

absl::Status PgCampaignTxn::AddEvent(const v1::CampaignEvent& event, absl::Time now) {
  pending_.emplace_back(event, now);
  return absl::OkStatus();
}

absl::Status PgCampaignTxn::Flush() {
  for (const auto& [event, at] : pending_) {
    UPDRAFT_RETURN_IF_ERROR(InsertCampaignEvent(txn_, event, at).status());
  }
  pending_.clear();
  return absl::OkStatus();
}

absl::Status PgCampaignTxn::Update(const std::vector<std::pair<std::string, absl::Time>>& devices,
                                   const std::string& set, const std::string& where, int wave,
                                   int64_t now) {
  for (size_t start = 0; start < devices.size(); start += 5000) {
    std::vector<std::string> ids;
    std::vector<int64_t> at;
    for (size_t i = start; i < devices.size() && i < start + 5000; ++i) {
      ids.push_back(devices[i].first);
      at.push_back(PgMicros(devices[i].second));
    }
    txn_.exec_params(absl::StrCat("UPDATE campaign_devices d SET ", set,
                                  ", notify_at = to_timestamp(x.at / 1e6)"
                                  " FROM unnest($2::text[], $3::bigint[]) AS x(id, at)"
                                  " WHERE d.campaign_id = $1 AND d.device_id = x.id AND ",
                                  where, " AND $4::int IS NOT NULL AND $5::bigint IS NOT NULL"),
                     campaign_.campaign_id(), PgTextArray(ids), PgBigintArray(at), wave, now);
  }
  return absl::OkStatus();
}

}  // namespace updraft::catalog
