#ifndef UPDRAFT_SERVICES_CATALOG_PG_CAMPAIGN_ROWS_H_
#define UPDRAFT_SERVICES_CATALOG_PG_CAMPAIGN_ROWS_H_

#include <cstdint>
#include <map>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/catalog/campaign_store.h"
#include "updraft/v1/campaign.pb.h"

namespace updraft::catalog {

// The SQL pieces and row conversions shared by the PostgreSQL campaign
// adapters (PgCampaignStore, PgCampaignTxn, PgWebhookStore) over the tables
// of migration 0005_campaigns.sql. Times travel as Unix microseconds
// (bigint parameters), protos as hex text of their serialization.

// The columns CampaignFromRow reads; append "WHERE ...".
inline constexpr char kSelectCampaignSql[] =
    "SELECT campaign_id, encode(spec, 'hex'), state, state_reason, current_wave, software_name,"
    " created_by, extract(epoch FROM created_at)::bigint, extract(epoch FROM updated_at)::bigint"
    " FROM campaigns ";

// Device counts of campaign $1 (rows for CampaignCountsFromRows).
inline constexpr char kCampaignCountsSql[] =
    "SELECT wave, state, count(*) FROM campaign_devices WHERE campaign_id = $1"
    " GROUP BY wave, state";

// `t` as the value of a PgTimestampParam parameter.
int64_t PgMicros(absl::Time t);

// SQL turning bigint parameter $n (PgMicros) into a timestamp.
std::string PgTimestampParam(int n);

// A campaign from a kSelectCampaignSql row, without progress counters.
// INTERNAL naming the campaign when its stored spec does not parse.
absl::StatusOr<v1::Campaign> CampaignFromRow(const pqxx::row& row);

// A stored event (hex of its serialization) with its `event_id`; INTERNAL
// naming the event when it does not parse.
absl::StatusOr<v1::CampaignEvent> CampaignEventFromHex(int64_t event_id, const std::string& hex);

// Inserts `event` (its event_id ignored) and queues a webhook delivery, due
// `now`, for every webhook of its campaign or of all campaigns. Returns the
// new event ID.
absl::StatusOr<int64_t> InsertCampaignEvent(pqxx::work& txn, v1::CampaignEvent event,
                                            absl::Time now);

// CampaignCounts from the rows of kCampaignCountsSql.
CampaignCounts CampaignCountsFromRows(const pqxx::result& rows);
// The same for several campaigns: rows of (campaign_id, wave, state, count).
std::map<std::string, CampaignCounts> CampaignCountsByIdFromRows(const pqxx::result& rows);

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_PG_CAMPAIGN_ROWS_H_
