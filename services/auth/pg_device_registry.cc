#include "services/auth/pg_device_registry.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json.h"
#include "common/token.h"

namespace updraft {
namespace {

// Microseconds since the epoch, as PostgreSQL computes them.
constexpr char kCreatedAtMicros[] = "(extract(epoch FROM created_at) * 1000000)::bigint";

}  // namespace

std::string AttributesToJson(const std::map<std::string, std::string>& attributes) {
  return JsonObject(attributes);
}

absl::StatusOr<DeviceRecord> PgDeviceRegistry::Register(const DeviceRecord& device) {
  DeviceRecord stored = device;
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result r = txn.exec_params(
        absl::StrCat("INSERT INTO devices (device_id, public_key, status, attributes) "
                     "VALUES ($1, decode($2, 'hex'), $3, $4::jsonb) "
                     "ON CONFLICT (device_id) DO NOTHING RETURNING ",
                     kCreatedAtMicros),
        device.device_id, absl::BytesToHexString(device.public_key),
        std::string(DeviceStatusName(device.status)), AttributesToJson(device.attributes));
    if (r.empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("device ", device.device_id, " is already registered"));
    }
    stored.created_at = absl::FromUnixMicros(r[0][0].as<int64_t>());
    txn.exec_params(
        "INSERT INTO auth_audit (actor, action, device_id, detail) VALUES ($1, $2, $3, $4)",
        std::string(kAdminActor), "register_device", device.device_id,
        absl::StrCat("status=", DeviceStatusName(device.status),
                     " key_id=", KeyIdFor(device.public_key)));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return stored;
}

absl::StatusOr<DeviceRecord> PgDeviceRegistry::Get(absl::string_view device_id) {
  DeviceRecord device;
  device.device_id = std::string(device_id);
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result r =
        txn.exec_params(absl::StrCat("SELECT encode(public_key, 'hex'), status, ", kCreatedAtMicros,
                                     " FROM devices WHERE device_id = $1"),
                        device.device_id);
    if (r.empty()) {
      return absl::NotFoundError(absl::StrCat("device ", device_id, " is not registered"));
    }
    device.public_key = absl::HexStringToBytes(r[0][0].as<std::string>());
    auto status = ParseDeviceStatus(r[0][1].as<std::string>());
    if (!status.ok()) {
      return absl::InternalError(absl::StrCat(
          "device ", device_id, " has a bad stored status: ", status.status().message()));
    }
    device.status = *status;
    device.created_at = absl::FromUnixMicros(r[0][2].as<int64_t>());
    device.attributes.clear();
    pqxx::result attrs = txn.exec_params(
        "SELECT a.key, a.value FROM devices d, jsonb_each_text(d.attributes) a "
        "WHERE d.device_id = $1",
        device.device_id);
    for (const auto& row : attrs) {
      device.attributes[row[0].as<std::string>()] = row[1].as<std::string>();
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return device;
}

}  // namespace updraft
