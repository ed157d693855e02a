#include "services/catalog/pg_campaign_rows.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace updraft::catalog {

int64_t PgMicros(absl::Time t) { return absl::ToUnixMicros(t); }

std::string PgTimestampParam(int n) {
  return absl::StrFormat("to_timestamp(($%d)::bigint / 1e6)", n);
}

absl::StatusOr<v1::Campaign> CampaignFromRow(const pqxx::row& row) {
  v1::Campaign c;
  c.set_campaign_id(row[0].as<std::string>());
  if (!c.mutable_spec()->ParseFromString(absl::HexStringToBytes(row[1].as<std::string>()))) {
    return absl::InternalError(
        absl::StrCat("campaign ", c.campaign_id(), " has a corrupt spec in the database"));
  }
  v1::CampaignState state = v1::CAMPAIGN_STATE_UNSPECIFIED;
  v1::CampaignState_Parse(row[2].as<std::string>(), &state);
  c.set_state(state);
  c.set_state_reason(row[3].as<std::string>());
  c.set_current_wave(row[4].as<uint32_t>());
  c.set_software_name(row[5].as<std::string>());
  c.set_created_by(row[6].as<std::string>());
  c.set_created_at_unix(row[7].as<int64_t>());
  c.set_updated_at_unix(row[8].as<int64_t>());
  return c;
}

absl::StatusOr<v1::CampaignEvent> CampaignEventFromHex(int64_t event_id, const std::string& hex) {
  v1::CampaignEvent e;
  if (!e.ParseFromString(absl::HexStringToBytes(hex))) {
    return absl::InternalError(absl::StrCat("campaign event ", event_id, " is corrupt"));
  }
  e.set_event_id(event_id);
  return e;
}

absl::StatusOr<int64_t> InsertCampaignEvent(pqxx::work& txn, v1::CampaignEvent event,
                                            absl::Time now) {
  event.set_event_id(0);
  pqxx::row row = txn.exec_params1(
      absl::StrCat("INSERT INTO campaign_events (campaign_id, event, created_at)"
                   " VALUES ($1, decode($2, 'hex'), ",
                   PgTimestampParam(3), ") RETURNING event_id"),
      event.campaign_id(), absl::BytesToHexString(event.SerializeAsString()), PgMicros(now));
  int64_t id = row[0].as<int64_t>();
  txn.exec_params(
      absl::StrCat("INSERT INTO campaign_webhook_deliveries (webhook_id, event_id, "
                   "next_attempt_at) SELECT webhook_id, $1, ",
                   PgTimestampParam(2),
                   " FROM campaign_webhooks WHERE campaign_id = '' OR campaign_id = $3"),
      id, PgMicros(now), event.campaign_id());
  return id;
}

namespace {

// Adds one (wave, state, count) row, its columns from `first` on.
void AddCountRow(const pqxx::row& row, int first, CampaignCounts* counts) {
  v1::CampaignDeviceState s = v1::CAMPAIGN_DEVICE_STATE_UNSPECIFIED;
  v1::CampaignDeviceState_Parse(row[first + 1].as<std::string>(), &s);
  (*counts)[row[first].as<int>()][s] += row[first + 2].as<int64_t>();
}

}  // namespace

CampaignCounts CampaignCountsFromRows(const pqxx::result& rows) {
  CampaignCounts counts;
  for (const pqxx::row& row : rows) AddCountRow(row, 0, &counts);
  return counts;
}

std::map<std::string, CampaignCounts> CampaignCountsByIdFromRows(const pqxx::result& rows) {
  std::map<std::string, CampaignCounts> counts;
  for (const pqxx::row& row : rows) AddCountRow(row, 1, &counts[row[0].as<std::string>()]);
  return counts;
}

}  // namespace updraft::catalog
