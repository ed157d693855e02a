#include "services/auth/pg_device_registry.h"

#include <algorithm>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json.h"
#include "services/auth/pg_audit_log.h"

namespace updraft {
namespace {

// The device columns every query reads, in this order (see ReadDevice).
std::string DeviceColumns(absl::string_view table) {
  return absl::StrCat(table, ".device_id, ", table, ".key_type, encode(", table,
                      ".public_key, 'hex'), ", table, ".status, ",
                      PgMicros(absl::StrCat(table, ".created_at")), ", ",
                      PgMicros(absl::StrCat(table, ".updated_at")));
}

absl::StatusOr<DeviceRecord> ReadDevice(const pqxx::row& row) {
  DeviceRecord d;
  d.device_id = row[0].as<std::string>();
  auto type = ParseKeyType(row[1].as<std::string>());
  auto status = ParseDeviceStatus(row[3].as<std::string>());
  if (!type.ok() || !status.ok()) {
    return absl::InternalError(absl::StrCat("device ", d.device_id, " has a bad stored row"));
  }
  d.key_type = *type;
  d.public_key = absl::HexStringToBytes(row[2].as<std::string>());
  d.status = *status;
  d.created_at = FromPgMicros(row[4]);
  d.updated_at = FromPgMicros(row[5]);
  return d;
}

// SQL reading (device_id, key, value) of every attribute of the devices the
// subquery `devices_sql` (yielding device_id and attributes) selects.
std::string AttributesSql(absl::string_view devices_sql) {
  return absl::StrCat("SELECT d.device_id, a.key, a.value FROM (", devices_sql,
                      ") d, jsonb_each_text(d.attributes) a");
}

void FillAttributes(const pqxx::result& r, absl::flat_hash_map<std::string, DeviceRecord*>& by_id) {
  for (const auto& row : r) {
    auto it = by_id.find(row[0].as<std::string>());
    if (it != by_id.end()) {
      it->second->attributes[row[1].as<std::string>()] = row[2].as<std::string>();
    }
  }
}

}  // namespace

std::string AttributesToJson(const std::map<std::string, std::string>& attributes) {
  return JsonObject(attributes);
}

absl::StatusOr<DeviceRecord> PgDeviceRegistry::Register(const DeviceRecord& device,
                                                        const AuditEntry& audit) {
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result r = txn.exec_params(
        absl::StrCat("INSERT INTO devices (device_id, key_type, public_key, status, attributes, "
                     "created_at, updated_at) VALUES ($1, $2, decode($3, 'hex'), $4, $5::jsonb, ",
                     PgTimeFromParam(6), ", ", PgTimeFromParam(7),
                     ") ON CONFLICT (device_id) DO NOTHING RETURNING device_id"),
        device.device_id, std::string(KeyTypeName(device.key_type)),
        absl::BytesToHexString(device.public_key), std::string(DeviceStatusName(device.status)),
        AttributesToJson(device.attributes), ToPgMicros(device.created_at),
        ToPgMicros(device.updated_at));
    if (r.empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("device ", device.device_id, " is already registered"));
    }
    InsertAudit(txn, audit);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return device;
}

absl::StatusOr<DeviceRecord> PgDeviceRegistry::Get(absl::string_view device_id) {
  // The login path's read: one statement, one round trip, no transaction.
  std::optional<DeviceRecord> found;
  std::string id(device_id);
  absl::Status s = pool_->Read([&](pqxx::nontransaction& txn) -> absl::Status {
    found.reset();
    pqxx::result r = txn.exec_params(
        absl::StrCat("SELECT ", DeviceColumns("devices"),
                     ", a.key, a.value FROM devices"
                     " LEFT JOIN LATERAL jsonb_each_text(devices.attributes) a ON true"
                     " WHERE devices.device_id = $1"),
        id);
    if (r.empty()) {
      return absl::NotFoundError(absl::StrCat("device ", device_id, " is not registered"));
    }
    absl::StatusOr<DeviceRecord> d = ReadDevice(r[0]);
    if (!d.ok()) return d.status();
    for (const auto& row : r) {
      if (!row[6].is_null()) d->attributes[row[6].as<std::string>()] = row[7].as<std::string>();
    }
    found = *std::move(d);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return *std::move(found);
}

absl::StatusOr<std::vector<DeviceRecord>> PgDeviceRegistry::List(const DeviceQuery& query) {
  std::vector<DeviceRecord> out;
  const std::string status = query.status ? std::string(DeviceStatusName(*query.status)) : "";
  const std::string where =
      "WHERE ($1 = '' OR status = $1) AND device_id > $2 ORDER BY device_id LIMIT $3";
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    out.clear();
    pqxx::result r =
        txn.exec_params(absl::StrCat("SELECT ", DeviceColumns("devices"), " FROM devices ", where),
                        status, query.after_device_id, int64_t{query.limit});
    for (const auto& row : r) {
      absl::StatusOr<DeviceRecord> d = ReadDevice(row);
      if (!d.ok()) return d.status();
      out.push_back(*std::move(d));
    }
    absl::flat_hash_map<std::string, DeviceRecord*> by_id;
    for (DeviceRecord& d : out) by_id[d.device_id] = &d;
    FillAttributes(txn.exec_params(AttributesSql(absl::StrCat(
                                       "SELECT device_id, attributes FROM devices ", where)),
                                   status, query.after_device_id, int64_t{query.limit}),
                   by_id);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<DeviceRecord> PgDeviceRegistry::Transition(absl::string_view device_id,
                                                          const std::vector<DeviceStatus>& from,
                                                          DeviceStatus to,
                                                          const AuditEntry& audit) {
  std::string id(device_id);
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result r = txn.exec_params(absl::StrCat("SELECT ", DeviceColumns("devices"),
                                                  " FROM devices WHERE device_id = $1 FOR UPDATE"),
                                     id);
    if (r.empty()) {
      return absl::NotFoundError(absl::StrCat("device ", device_id, " is not registered"));
    }
    absl::StatusOr<DeviceRecord> d = ReadDevice(r[0]);
    if (!d.ok()) return d.status();
    if (std::find(from.begin(), from.end(), d->status) == from.end()) {
      return TransitionError(*d, to);
    }
    txn.exec_params(absl::StrCat("UPDATE devices SET status = $2, updated_at = ",
                                 PgTimeFromParam(3), " WHERE device_id = $1"),
                    id, std::string(DeviceStatusName(to)), ToPgMicros(audit.at));
    InsertAudit(txn, audit);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return Get(device_id);
}

absl::Status PgDeviceRegistry::Import(const std::vector<DeviceRecord>& devices,
                                      const AuditEntry& audit, size_t* conflict_index) {
  std::vector<std::string> rows;
  rows.reserve(devices.size());
  absl::flat_hash_map<std::string, size_t> index;
  for (size_t i = 0; i < devices.size(); ++i) {
    const DeviceRecord& d = devices[i];
    index[d.device_id] = i;
    rows.push_back(absl::StrCat(
        "{\"device_id\":\"", JsonEscape(d.device_id), "\",\"key_type\":\"", KeyTypeName(d.key_type),
        "\",\"public_key\":\"", absl::BytesToHexString(d.public_key), "\",\"status\":\"",
        DeviceStatusName(d.status), "\",\"attributes\":", AttributesToJson(d.attributes),
        ",\"created_us\":", ToPgMicros(d.created_at), ",\"updated_us\":", ToPgMicros(d.updated_at),
        "}"));
  }
  const std::string json = absl::StrCat("[", absl::StrJoin(rows, ","), "]");
  const std::string recordset =
      "jsonb_to_recordset($1::jsonb) AS r(device_id text, key_type text, public_key text, "
      "status text, attributes jsonb, created_us bigint, updated_us bigint)";
  return pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result taken =
        txn.exec_params(absl::StrCat("SELECT r.device_id FROM ", recordset,
                                     " JOIN devices d ON d.device_id = r.device_id LIMIT 1"),
                        json);
    if (!taken.empty()) {
      std::string id = taken[0][0].as<std::string>();
      if (conflict_index != nullptr) *conflict_index = index[id];
      return absl::AlreadyExistsError(absl::StrCat("device ", id, " is already registered"));
    }
    txn.exec_params(
        absl::StrCat("INSERT INTO devices (device_id, key_type, public_key, status, attributes, "
                     "created_at, updated_at) SELECT r.device_id, r.key_type, "
                     "decode(r.public_key, 'hex'), r.status, r.attributes, "
                     "timestamptz 'epoch' + r.created_us * interval '1 microsecond', "
                     "timestamptz 'epoch' + r.updated_us * interval '1 microsecond' FROM ",
                     recordset),
        json);
    txn.exec_params(
        absl::StrCat("INSERT INTO auth_audit (at, actor, action, device_id, detail) SELECT ",
                     PgTimeFromParam(2),
                     ", $3, $4, r.device_id, "
                     "'status=' || r.status || ' key_type=' || r.key_type FROM ",
                     recordset),
        json, ToPgMicros(audit.at), audit.actor, audit.action);
    return absl::OkStatus();
  });
}

}  // namespace updraft
