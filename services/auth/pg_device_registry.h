#ifndef UPDRAFT_SERVICES_AUTH_PG_DEVICE_REGISTRY_H_
#define UPDRAFT_SERVICES_AUTH_PG_DEVICE_REGISTRY_H_

#include "common/pg_pool.h"
#include "services/auth/device_registry.h"

namespace updraft {

// DeviceRegistry over PostgreSQL: the `devices` table, with every
// registration recorded in `auth_audit` in the same transaction (schema in
// migrations/). Attributes are stored as a JSON object of strings.
class PgDeviceRegistry : public DeviceRegistry {
 public:
  // Actor recorded in auth_audit for registrations through the admin API.
  static constexpr absl::string_view kAdminActor = "auth-admin-api";

  // `pool` must outlive the registry.
  explicit PgDeviceRegistry(PgPool* pool) : pool_(pool) {}

  absl::StatusOr<DeviceRecord> Register(const DeviceRecord& device) override;
  absl::StatusOr<DeviceRecord> Get(absl::string_view device_id) override;

 private:
  PgPool* pool_;
};

// The JSON object text for a string map, e.g. {"model":"X1"}. Strings are
// passed through as UTF-8; quotes, backslashes and control characters are
// escaped. Exposed for tests.
std::string AttributesToJson(const std::map<std::string, std::string>& attributes);

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_PG_DEVICE_REGISTRY_H_
