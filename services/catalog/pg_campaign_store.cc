#include "services/catalog/pg_campaign_store.h"

#include <algorithm>
#include <pqxx/pqxx>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status_util.h"

namespace updraft::catalog {
namespace {

constexpr char kTs[] = "to_timestamp(($%d)::bigint / 1e6)";
constexpr char kSelectCampaign[] =
    "SELECT campaign_id, encode(spec, 'hex'), state, state_reason, current_wave, software_name,"
    " created_by, extract(epoch FROM created_at)::bigint, extract(epoch FROM updated_at)::bigint"
    " FROM campaigns ";

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

std::string Ts(int n) { return absl::StrFormat(kTs, n); }

std::string IntArray(const std::vector<int64_t>& items) {
  return absl::StrCat("{", absl::StrJoin(items, ","), "}");
}

std::string StateName(v1::CampaignDeviceState s) { return v1::CampaignDeviceState_Name(s); }

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

absl::StatusOr<v1::CampaignEvent> EventFromRow(int64_t event_id, const std::string& hex) {
  v1::CampaignEvent e;
  if (!e.ParseFromString(absl::HexStringToBytes(hex))) {
    return absl::InternalError(absl::StrCat("campaign event ", event_id, " is corrupt"));
  }
  e.set_event_id(event_id);
  return e;
}

absl::StatusOr<int64_t> InsertEvent(pqxx::work& txn, v1::CampaignEvent event, absl::Time now) {
  event.set_event_id(0);
  pqxx::row row = txn.exec_params1(
      absl::StrCat("INSERT INTO campaign_events (campaign_id, event, created_at)"
                   " VALUES ($1, decode($2, 'hex'), ",
                   Ts(3), ") RETURNING event_id"),
      event.campaign_id(), absl::BytesToHexString(event.SerializeAsString()), Micros(now));
  int64_t id = row[0].as<int64_t>();
  txn.exec_params(
      absl::StrCat("INSERT INTO campaign_webhook_deliveries (webhook_id, event_id, "
                   "next_attempt_at) SELECT webhook_id, $1, ",
                   Ts(2), " FROM campaign_webhooks WHERE campaign_id = '' OR campaign_id = $3"),
      id, Micros(now), event.campaign_id());
  return id;
}

CampaignCounts CountsFrom(const pqxx::result& rows) {
  CampaignCounts counts;
  for (const pqxx::row& row : rows) {
    v1::CampaignDeviceState s = v1::CAMPAIGN_DEVICE_STATE_UNSPECIFIED;
    v1::CampaignDeviceState_Parse(row[1].as<std::string>(), &s);
    counts[row[0].as<int>()][s] += row[2].as<int64_t>();
  }
  return counts;
}

constexpr char kCountsQuery[] =
    "SELECT wave, state, count(*) FROM campaign_devices WHERE campaign_id = $1"
    " GROUP BY wave, state";

// CampaignTxn over one pqxx transaction holding the campaign's row lock.
class PgCampaignTxn : public CampaignTxn {
 public:
  PgCampaignTxn(pqxx::work& txn, v1::Campaign campaign)
      : txn_(txn), campaign_(std::move(campaign)) {}

  const v1::Campaign& campaign() const override { return campaign_; }

  absl::Status Save(const v1::Campaign& c) override {
    txn_.exec_params(absl::StrCat("UPDATE campaigns SET state = $2, state_reason = $3,"
                                  " current_wave = $4, updated_at = to_timestamp($5::bigint)"
                                  " WHERE campaign_id = $1"),
                     c.campaign_id(), v1::CampaignState_Name(c.state()), c.state_reason(),
                     static_cast<int>(c.current_wave()), c.updated_at_unix());
    campaign_ = c;
    return absl::OkStatus();
  }

  absl::StatusOr<CampaignCounts> Counts() override {
    return CountsFrom(txn_.exec_params(kCountsQuery, campaign_.campaign_id()));
  }

  absl::StatusOr<int> AddDevices(const std::vector<NewCampaignDevice>& devices, int wave,
                                 v1::CampaignDeviceState state, absl::Time now) override {
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
                       Ts(6), ", ", Ts(6),
                       " FROM unnest($2::text[], $3::bigint[]) AS x(id, rank)"
                       " ON CONFLICT DO NOTHING"),
          campaign_.campaign_id(), PgTextArray(ids), IntArray(ranks), wave, StateName(state),
          Micros(now));
      added += static_cast<int>(r.affected_rows());
    }
    return added;
  }

  absl::StatusOr<std::vector<std::string>> Queued(int limit) override {
    std::vector<std::string> out;
    if (limit <= 0) return out;
    for (const pqxx::row& row : txn_.exec_params(
             "SELECT device_id FROM campaign_devices WHERE campaign_id = $1 AND wave = 0"
             " AND state = 'CAMPAIGN_DEVICE_QUEUED' ORDER BY rank, device_id LIMIT $2",
             campaign_.campaign_id(), limit)) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  }

  absl::Status StartDevices(const std::vector<std::pair<std::string, absl::Time>>& devices,
                            int wave, absl::Time now) override {
    return Update(
        devices, absl::StrCat("wave = $4, state = 'CAMPAIGN_DEVICE_PENDING', updated_at = ", Ts(5)),
        "d.wave = 0 AND d.state = 'CAMPAIGN_DEVICE_QUEUED'", wave, Micros(now));
  }

  absl::StatusOr<std::vector<DueDevice>> Due(absl::Time now, int limit) override {
    std::vector<DueDevice> out;
    for (const pqxx::row& row : txn_.exec_params(
             absl::StrCat("SELECT d.device_id, d.wave, coalesce(a.time_zone, ''), d.attempts"
                          " FROM campaign_devices d LEFT JOIN device_attributes a"
                          " ON a.device_id = d.device_id WHERE d.campaign_id = $1"
                          " AND d.state = 'CAMPAIGN_DEVICE_PENDING' AND d.notify_at <= ",
                          Ts(2), " ORDER BY d.notify_at, d.device_id LIMIT $3"),
             campaign_.campaign_id(), Micros(now), limit)) {
      out.push_back(
          {row[0].as<std::string>(), row[1].as<int>(), row[2].as<std::string>(), row[3].as<int>()});
    }
    return out;
  }

  absl::Status Defer(const std::vector<std::pair<std::string, absl::Time>>& devices) override {
    return Update(devices, "wave = wave", "d.state = 'CAMPAIGN_DEVICE_PENDING'", 0, 0);
  }

  absl::Status MarkNotified(const std::vector<std::string>& ids, absl::Time now) override {
    txn_.exec_params(absl::StrCat("UPDATE campaign_devices SET state = 'CAMPAIGN_DEVICE_NOTIFIED',"
                                  " updated_at = ",
                                  Ts(3),
                                  " WHERE campaign_id = $1 AND device_id = ANY($2::text[])"
                                  " AND state = 'CAMPAIGN_DEVICE_PENDING'"),
                     campaign_.campaign_id(), PgTextArray(ids), Micros(now));
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<DueDevice>> Retry(int max_attempts, absl::Time failed_before,
                                               absl::Time now) override {
    std::vector<DueDevice> out;
    for (const pqxx::row& row : txn_.exec_params(
             absl::StrCat("UPDATE campaign_devices SET state = 'CAMPAIGN_DEVICE_PENDING',"
                          " attempts = attempts + 1, notify_at = ",
                          Ts(4), ", updated_at = ", Ts(4),
                          " WHERE campaign_id = $1 AND state = 'CAMPAIGN_DEVICE_FAILED'"
                          " AND wave > 0 AND attempts < $2 AND updated_at <= ",
                          Ts(3), " RETURNING device_id, wave, attempts"),
             campaign_.campaign_id(), max_attempts, Micros(failed_before), Micros(now))) {
      out.push_back({row[0].as<std::string>(), row[1].as<int>(), "", row[2].as<int>()});
    }
    return out;
  }

  // Kept until Flush(): events go in at the end of the transaction.
  absl::Status AddEvent(const v1::CampaignEvent& event, absl::Time now) override {
    pending_.emplace_back(event, now);
    return absl::OkStatus();
  }

  absl::Status Flush() {
    for (const auto& [event, at] : pending_) {
      UPDRAFT_RETURN_IF_ERROR(InsertEvent(txn_, event, at).status());
    }
    pending_.clear();
    return absl::OkStatus();
  }

 private:
  // Sets notify_at per device (and `set`) on the campaign's devices
  // matching `where` (alias d).
  absl::Status Update(const std::vector<std::pair<std::string, absl::Time>>& devices,
                      const std::string& set, const std::string& where, int wave, int64_t now) {
    for (size_t start = 0; start < devices.size(); start += 5000) {
      std::vector<std::string> ids;
      std::vector<int64_t> at;
      for (size_t i = start; i < devices.size() && i < start + 5000; ++i) {
        ids.push_back(devices[i].first);
        at.push_back(Micros(devices[i].second));
      }
      txn_.exec_params(absl::StrCat("UPDATE campaign_devices d SET ", set,
                                    ", notify_at = to_timestamp(x.at / 1e6)"
                                    " FROM unnest($2::text[], $3::bigint[]) AS x(id, at)"
                                    " WHERE d.campaign_id = $1 AND d.device_id = x.id AND ",
                                    where, " AND $4::int IS NOT NULL AND $5::bigint IS NOT NULL"),
                       campaign_.campaign_id(), PgTextArray(ids), IntArray(at), wave, now);
    }
    return absl::OkStatus();
  }

  pqxx::work& txn_;
  v1::Campaign campaign_;
  std::vector<std::pair<v1::CampaignEvent, absl::Time>> pending_;
};

}  // namespace

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
                     Ts(9), ", ", Ts(9), ")"),
        c.campaign_id(), c.spec().release_id(),
        absl::BytesToHexString(c.spec().SerializeAsString()), v1::CampaignState_Name(c.state()),
        c.state_reason(), static_cast<int>(c.current_wave()), c.software_name(), c.created_by(),
        Micros(now));
    return InsertEvent(txn, created, now).status();
  });
}

absl::StatusOr<v1::Campaign> PgCampaignStore::Get(const std::string& campaign_id) {
  v1::Campaign out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result r =
        txn.exec_params(absl::StrCat(kSelectCampaign, "WHERE campaign_id = $1"), campaign_id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("campaign ", campaign_id, " not found"));
    UPDRAFT_ASSIGN_OR_RETURN(out, CampaignFromRow(r[0]));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<CampaignCounts> PgCampaignStore::Counts(const std::string& campaign_id) {
  CampaignCounts out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) {
    out = CountsFrom(txn.exec_params(kCountsQuery, campaign_id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<v1::Campaign>> PgCampaignStore::List(const std::string& after,
                                                                int limit) {
  std::vector<v1::Campaign> out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    out.clear();
    for (const pqxx::row& row : txn.exec_params(
             absl::StrCat(kSelectCampaign, "WHERE campaign_id > $1 ORDER BY campaign_id LIMIT $2"),
             after, limit)) {
      UPDRAFT_ASSIGN_OR_RETURN(v1::Campaign c, CampaignFromRow(row));
      out.push_back(std::move(c));
    }
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
        txn.exec_params(absl::StrCat(kSelectCampaign, "WHERE campaign_id = $1 FOR UPDATE",
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
  for (v1::CampaignDeviceState s : from) from_names.push_back(StateName(s));
  OutcomeResult out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    out.events.clear();
    pqxx::result r = txn.exec_params(
        absl::StrCat(
            "UPDATE campaign_devices d SET state = $4, last_result = $5, updated_at = ", Ts(6),
            " FROM campaigns c WHERE d.device_id = $1 AND c.campaign_id = d.campaign_id"
            " AND c.release_id = ANY($2::text[])"
            " AND c.state IN ('CAMPAIGN_RUNNING', 'CAMPAIGN_PAUSED')"
            " AND d.state = ANY($3::text[]) RETURNING d.campaign_id, d.wave"),
        device_id, PgTextArray(release_ids), PgTextArray(from_names), StateName(to),
        static_cast<int>(result), Micros(now));
    for (const pqxx::row& row : r) {
      v1::CampaignEvent e;
      e.set_campaign_id(row[0].as<std::string>());
      e.set_type(type);
      e.set_device_id(device_id);
      e.set_wave(row[1].as<uint32_t>());
      e.set_result(result);
      e.set_at_unix(absl::ToUnixSeconds(now));
      UPDRAFT_ASSIGN_OR_RETURN(int64_t id, InsertEvent(txn, e, now));
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
      UPDRAFT_ASSIGN_OR_RETURN(v1::CampaignEvent e,
                               EventFromRow(row[0].as<int64_t>(), row[1].as<std::string>()));
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
                     Ts(6),
                     ") ON CONFLICT (device_id) DO UPDATE SET model = EXCLUDED.model,"
                     " os_version = EXCLUDED.os_version, carrier = EXCLUDED.carrier,"
                     " time_zone = EXCLUDED.time_zone, updated_at = EXCLUDED.updated_at"
                     " WHERE (device_attributes.model, device_attributes.os_version,"
                     " device_attributes.carrier, device_attributes.time_zone) IS DISTINCT FROM"
                     " (EXCLUDED.model, EXCLUDED.os_version, EXCLUDED.carrier,"
                     " EXCLUDED.time_zone)"),
        device_id, a.model(), a.os_version(), a.carrier(), a.time_zone(), Micros(now));
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

absl::Status PgCampaignStore::CreateWebhook(const v1::Webhook& w, const std::string& secret) {
  return pool_->Transact([&](pqxx::work& txn) {
    txn.exec_params(
        "INSERT INTO campaign_webhooks (webhook_id, url, secret, campaign_id, created_at)"
        " VALUES ($1, $2, $3, $4, to_timestamp($5::bigint))",
        w.webhook_id(), w.url(), secret, w.campaign_id(), w.created_at_unix());
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::Webhook>> PgCampaignStore::ListWebhooks() {
  std::vector<v1::Webhook> out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) {
    out.clear();
    for (const pqxx::row& row :
         txn.exec("SELECT webhook_id, url, campaign_id, extract(epoch FROM created_at)::bigint"
                  " FROM campaign_webhooks ORDER BY webhook_id")) {
      v1::Webhook w;
      w.set_webhook_id(row[0].as<std::string>());
      w.set_url(row[1].as<std::string>());
      w.set_campaign_id(row[2].as<std::string>());
      w.set_created_at_unix(row[3].as<int64_t>());
      out.push_back(std::move(w));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgCampaignStore::DeleteWebhook(const std::string& webhook_id) {
  return pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    if (txn.exec_params("DELETE FROM campaign_webhooks WHERE webhook_id = $1", webhook_id)
            .affected_rows() == 0) {
      return absl::NotFoundError(absl::StrCat("webhook ", webhook_id, " not found"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<WebhookDelivery>> PgCampaignStore::ClaimDeliveries(
    absl::Time now, absl::Time lease_until, int limit) {
  std::vector<WebhookDelivery> out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    out.clear();
    for (const pqxx::row& row : txn.exec_params(
             absl::StrCat("UPDATE campaign_webhook_deliveries d SET next_attempt_at = ", Ts(2),
                          " FROM campaign_webhooks w, campaign_events e"
                          " WHERE d.delivery_id IN (SELECT delivery_id FROM"
                          " campaign_webhook_deliveries WHERE delivered_at IS NULL AND NOT gave_up"
                          " AND next_attempt_at <= ",
                          Ts(1),
                          " ORDER BY delivery_id LIMIT $3 FOR UPDATE SKIP LOCKED)"
                          " AND w.webhook_id = d.webhook_id AND e.event_id = d.event_id"
                          " RETURNING d.delivery_id, d.attempts, w.url, w.secret, e.event_id,"
                          " encode(e.event, 'hex')"),
             Micros(now), Micros(lease_until), limit)) {
      WebhookDelivery d;
      d.delivery_id = row[0].as<int64_t>();
      d.attempts = row[1].as<int>();
      d.url = row[2].as<std::string>();
      d.secret = row[3].as<std::string>();
      UPDRAFT_ASSIGN_OR_RETURN(d.event,
                               EventFromRow(row[4].as<int64_t>(), row[5].as<std::string>()));
      out.push_back(std::move(d));
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.delivery_id < b.delivery_id; });
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgCampaignStore::FinishDelivery(int64_t delivery_id, bool delivered, bool give_up,
                                             absl::Time next_at, const std::string& error,
                                             absl::Time now) {
  return pool_->Transact([&](pqxx::work& txn) {
    txn.exec_params(absl::StrCat("UPDATE campaign_webhook_deliveries SET attempts = attempts + 1,"
                                 " delivered_at = CASE WHEN $2 THEN ",
                                 Ts(5), " END, gave_up = $3, next_attempt_at = ", Ts(4),
                                 ", last_error = $6 WHERE delivery_id = $1"),
                    delivery_id, delivered, give_up, Micros(next_at), Micros(now), error);
    return absl::OkStatus();
  });
}

}  // namespace updraft::catalog
