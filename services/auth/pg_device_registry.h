#ifndef UPDRAFT_SERVICES_AUTH_PG_DEVICE_REGISTRY_H_
#define UPDRAFT_SERVICES_AUTH_PG_DEVICE_REGISTRY_H_

#include <map>
#include <string>
#include <vector>

#include "common/pg_pool.h"
#include "services/auth/device_registry.h"

namespace updraft {

// DeviceRegistry over PostgreSQL: the `devices` table, with every change
// recorded in `auth_audit` in the same transaction (schema in migrations/).
// Attributes are stored as a JSON object of strings. Import inserts all
// rows with one statement per table (jsonb_to_recordset), so thousands of
// devices go in one short transaction.
class PgDeviceRegistry : public DeviceRegistry {
 public:
  // `pool` must outlive the registry.
  explicit PgDeviceRegistry(PgPool* pool) : pool_(pool) {}

  absl::StatusOr<DeviceRecord> Register(const DeviceRecord& device,
                                        const AuditEntry& audit) override;
  absl::StatusOr<DeviceRecord> Get(absl::string_view device_id) override;
  absl::StatusOr<std::vector<DeviceRecord>> List(const DeviceQuery& query) override;
  absl::StatusOr<DeviceRecord> Transition(absl::string_view device_id,
                                          const std::vector<DeviceStatus>& from, DeviceStatus to,
                                          const AuditEntry& audit) override;
  absl::Status Import(const std::vector<DeviceRecord>& devices, const AuditEntry& audit,
                      size_t* conflict_index) override;

 private:
  PgPool* pool_;
};

// The JSON object text for a string map, e.g. {"model":"X1"}. Strings are
// passed through as UTF-8; quotes, backslashes and control characters are
// escaped. Exposed for tests.
std::string AttributesToJson(const std::map<std::string, std::string>& attributes);

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_PG_DEVICE_REGISTRY_H_
