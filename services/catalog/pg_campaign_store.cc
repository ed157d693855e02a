#include "services/catalog/pg_campaign_store.h"

#include <pqxx/pqxx>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "services/catalog/pg_campaign_rows.h"
#include "services/catalog/pg_campaign_txn.h"

namespace updraft::catalog {

absl::Status PgCampaignStore::Create(const v1::Campaign& c, const v1::CampaignEvent& created,
                                     absl::Time now) {
  return pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    if (txn.exec_params("SELECT 1 FROM releases WHERE release_id = $1", c.spec().release_id())
            .empty()) {
      return absl::NotFoundError(absl::StrCat("release ", c.spec().release_id(), " not found"));
    }
    txn.exec_params(
        absl::StrCat("INSERT INTO campaigns (campaign_id, release_id, spec, state, state_reason,"
                     " current_wave, software_name, created_by, created_at, updated_at)"
                     " VALUES ($1, $2, decode($3, 'hex'), $4, $5, $6, $7, $8, ",
                     PgTimestampParam(9), ", ", PgTimestampParam(9), ")"),
        c.campaign_id(), c.spec().release_id(),
        absl::BytesToHexString(c.spec().SerializeAsString()), v1::CampaignState_Name(c.state()),
        c.state_reason(), static_cast<int>(c.current_wave()), c.software_name(), c.created_by(),
        PgMicros(now));
    return InsertCampaignEvent(txn, created, now).status();
  });
}

absl::StatusOr<v1::Campaign> PgCampaignStore::Get(const std::string& campaign_id) {
  v1::Campaign out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result r =
        txn.exec_params(absl::StrCat(kSelectCampaignSql, "WHERE campaign_id = $1"), campaign_id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("campaign ", campaign_id, " not found"));
    UPDRAFT_ASSIGN_OR_RETURN(out, CampaignFromRow(r[0]));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<CampaignCounts> PgCampaignStore::Counts(const std::string& campaign_id) {
  CampaignCounts out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) {
    out = CampaignCountsFromRows(txn.exec_params(kCampaignCountsSql, campaign_id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<ListedCampaign>> PgCampaignStore::List(const std::string& after,
                                                                  int limit) {
  std::vector<ListedCampaign> out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    out.clear();
    for (const pqxx::row& row :
         txn.exec_params(absl::StrCat(kSelectCampaignSql,
                                      "WHERE campaign_id > $1 ORDER BY campaign_id LIMIT $2"),
                         after, limit)) {
      UPDRAFT_ASSIGN_OR_RETURN(v1::Campaign c, CampaignFromRow(row));
      out.push_back({std::move(c), {}});
    }
    if (out.empty()) return absl::OkStatus();
    // The page's counts in one query: its IDs are the range (after, last].
    std::map<std::string, CampaignCounts> counts = CampaignCountsByIdFromRows(
        txn.exec_params("SELECT campaign_id, wave, state, count(*) FROM campaign_devices"
                        " WHERE campaign_id > $1 AND campaign_id <= $2"
                        " GROUP BY campaign_id, wave, state",
                        after, out.back().campaign.campaign_id()));
    for (ListedCampaign& c : out) c.counts = std::move(counts[c.campaign.campaign_id()]);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<std::string>> PgCampaignStore::Running() {
  std::vector<std::string> out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) {
    out.clear();
    for (const pqxx::row& row :
         txn.exec("SELECT campaign_id FROM campaigns WHERE state = 'CAMPAIGN_RUNNING'"
                  " ORDER BY campaign_id")) {
      out.push_back(row[0].as<std::string>());
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<ActiveReleaseSet> PgCampaignStore::ActiveReleases() {
  ActiveReleaseSet out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) {
    out = ActiveReleaseSet();
    for (const pqxx::row& row :
         txn.exec("SELECT release_id, encode(spec, 'hex') FROM campaigns"
                  " WHERE state IN ('CAMPAIGN_RUNNING', 'CAMPAIGN_PAUSED')")) {
      const std::string release_id = row[0].as<std::string>();
      out.all.push_back(release_id);
      v1::CampaignSpec spec;
      if (!spec.ParseFromString(absl::HexStringToBytes(row[1].as<std::string>()))) {
        return absl::InternalError(
            absl::StrCat("a campaign of release ", release_id, " has a corrupt spec"));
      }
      if (spec.gate_offers()) out.gated.push_back(release_id);
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<bool> PgCampaignStore::InStartedWave(const std::string& device_id,
                                                    const std::string& release_id) {
  bool started = false;
  UPDRAFT_RETURN_IF_ERROR(pool_->Read([&](pqxx::nontransaction& txn) {
    started = !txn.exec_params(
                      "SELECT 1 FROM campaign_devices d JOIN campaigns c USING (campaign_id)"
                      " WHERE d.device_id = $1 AND c.release_id = $2"
                      " AND c.state IN ('CAMPAIGN_RUNNING', 'CAMPAIGN_PAUSED')"
                      " AND d.state <> 'CAMPAIGN_DEVICE_QUEUED' LIMIT 1",
                      device_id, release_id)
                   .empty();
    return absl::OkStatus();
  }));
  return started;
}

absl::StatusOr<bool> PgCampaignStore::WithCampaign(
    const std::string& campaign_id, bool wait,
    const std::function<absl::Status(CampaignTxn&)>& fn) {
  bool ran = false;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    ran = false;
    pqxx::result r =
        txn.exec_params(absl::StrCat(kSelectCampaignSql, "WHERE campaign_id = $1 FOR UPDATE",
                                     wait ? "" : " SKIP LOCKED"),
                        campaign_id);
    if (r.empty()) {
      if (txn.exec_params("SELECT 1 FROM campaigns WHERE campaign_id = $1", campaign_id).empty()) {
        return absl::NotFoundError(absl::StrCat("campaign ", campaign_id, " not found"));
      }
      return absl::OkStatus();
    }
    UPDRAFT_ASSIGN_OR_RETURN(v1::Campaign c, CampaignFromRow(r[0]));
    PgCampaignTxn campaign_txn(txn, std::move(c));
    UPDRAFT_RETURN_IF_ERROR(fn(campaign_txn));
    UPDRAFT_RETURN_IF_ERROR(campaign_txn.Flush());
    ran = true;
    return absl::OkStatus();
  }));
  return ran;
}

absl::StatusOr<OutcomeResult> PgCampaignStore::RecordOutcome(
    const std::string& device_id, const std::vector<std::string>& release_ids,
    const std::vector<v1::CampaignDeviceState>& from, v1::CampaignDeviceState to,
    v1::CampaignEventType type, v1::ResultCode result, absl::Time now) {
  std::vector<std::string> from_names;
  for (v1::CampaignDeviceState s : from) from_names.push_back(v1::CampaignDeviceState_Name(s));
  OutcomeResult out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    out.events.clear();
    pqxx::result r = txn.exec_params(
        absl::StrCat("UPDATE campaign_devices d SET state = $4, last_result = $5, updated_at = ",
                     PgTimestampParam(6),
                     " FROM campaigns c WHERE d.device_id = $1 AND c.campaign_id = d.campaign_id"
                     " AND c.release_id = ANY($2::text[])"
                     " AND c.state IN ('CAMPAIGN_RUNNING', 'CAMPAIGN_PAUSED')"
                     " AND d.state = ANY($3::text[]) RETURNING d.campaign_id, d.wave"),
        device_id, PgTextArray(release_ids), PgTextArray(from_names),
        v1::CampaignDeviceState_Name(to), static_cast<int>(result), PgMicros(now));
    for (const pqxx::row& row : r) {
      v1::CampaignEvent e;
      e.set_campaign_id(row[0].as<std::string>());
      e.set_type(type);
      e.set_device_id(device_id);
      e.set_wave(row[1].as<uint32_t>());
      e.set_result(result);
      e.set_at_unix(absl::ToUnixSeconds(now));
      UPDRAFT_ASSIGN_OR_RETURN(int64_t id, InsertCampaignEvent(txn, e, now));
      e.set_event_id(id);
      out.events.push_back(std::move(e));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<v1::CampaignEvent>> PgCampaignStore::Events(
    const std::string& campaign_id, int64_t after_event_id, int limit, int64_t* settled_through) {
  std::vector<v1::CampaignEvent> out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    out.clear();
    if (settled_through != nullptr) *settled_through = after_event_id;
    // Events are inserted just before their transaction commits (see
    // PgCampaignTxn::Flush), so one inserted seconds ago leaves no gap below.
    for (const pqxx::row& row :
         txn.exec_params("SELECT event_id, encode(event, 'hex'),"
                         " inserted_at <= clock_timestamp() - interval '5 seconds'"
                         " FROM campaign_events WHERE campaign_id = $1"
                         " AND event_id > $2 ORDER BY event_id LIMIT $3",
                         campaign_id, after_event_id, limit)) {
      UPDRAFT_ASSIGN_OR_RETURN(v1::CampaignEvent e, CampaignEventFromHex(row[0].as<int64_t>(),
                                                                         row[1].as<std::string>()));
      if (settled_through != nullptr && row[2].as<bool>()) *settled_through = e.event_id();
      out.push_back(std::move(e));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgCampaignStore::PutAttributes(const std::string& device_id,
                                            const v1::DeviceAttributes& a, absl::Time now) {
  return pool_->Transact([&](pqxx::work& txn) {
    txn.exec_params(
        absl::StrCat("INSERT INTO device_attributes (device_id, model, os_version, carrier,"
                     " time_zone, updated_at) VALUES ($1, $2, $3, $4, $5, ",
                     PgTimestampParam(6),
                     ") ON CONFLICT (device_id) DO UPDATE SET model = EXCLUDED.model,"
                     " os_version = EXCLUDED.os_version, carrier = EXCLUDED.carrier,"
                     " time_zone = EXCLUDED.time_zone, updated_at = EXCLUDED.updated_at"
                     " WHERE (device_attributes.model, device_attributes.os_version,"
                     " device_attributes.carrier, device_attributes.time_zone) IS DISTINCT FROM"
                     " (EXCLUDED.model, EXCLUDED.os_version, EXCLUDED.carrier,"
                     " EXCLUDED.time_zone)"),
        device_id, a.model(), a.os_version(), a.carrier(), a.time_zone(), PgMicros(now));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<DeviceAttributeRow>> PgCampaignStore::MatchAttributes(
    const std::vector<std::string>& models, const std::vector<std::string>& carriers,
    const std::string& after, int limit) {
  std::vector<DeviceAttributeRow> out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) {
    out.clear();
    for (const pqxx::row& row :
         txn.exec_params("SELECT device_id, os_version FROM device_attributes WHERE device_id > $1"
                         " AND (cardinality($2::text[]) = 0 OR model = ANY($2::text[]))"
                         " AND (cardinality($3::text[]) = 0 OR carrier = ANY($3::text[]))"
                         " ORDER BY device_id LIMIT $4",
                         after, PgTextArray(models), PgTextArray(carriers), limit)) {
      out.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace updraft::catalog
