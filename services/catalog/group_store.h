#ifndef UPDRAFT_SERVICES_CATALOG_GROUP_STORE_H_
#define UPDRAFT_SERVICES_CATALOG_GROUP_STORE_H_

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace updraft::catalog {

// Named sets of devices that operators address together: configuration
// overrides of a release apply per group, per-component operations and
// campaigns can target one. Membership is many-to-many and kept durably
// (PostgreSQL table device_group_members). Callers validate names (see
// ValidateGroupName); every call is atomic.
class GroupStore {
 public:
  virtual ~GroupStore() = default;

  // Adds devices to a group (created on first use); already-present members
  // are left as they are. Returns how many were new.
  virtual absl::StatusOr<int> AddMembers(const std::string& group,
                                         const std::vector<std::string>& device_ids,
                                         absl::Time now) = 0;
  // Removes devices from a group; absent ones are ignored. Returns how many
  // were removed.
  virtual absl::StatusOr<int> RemoveMembers(const std::string& group,
                                            const std::vector<std::string>& device_ids) = 0;
  // Members ordered by device ID, at most `limit`, starting after
  // `after_device_id` (empty: from the start), for paging through large
  // groups. An unknown group has no members.
  virtual absl::StatusOr<std::vector<std::string>> ListMembers(const std::string& group,
                                                               const std::string& after_device_id,
                                                               int limit) = 0;
  // The groups a device belongs to, ordered by name.
  virtual absl::StatusOr<std::vector<std::string>> GroupsOf(const std::string& device_id) = 0;
};

// Every member of `group`, read page by page through ListMembers in device
// ID order; stops reading once more than `stop_after` are collected, so a
// caller with a limit reads at most one page past it.
absl::StatusOr<std::vector<std::string>> ListAllMembers(
    GroupStore& groups, const std::string& group,
    size_t stop_after = std::numeric_limits<size_t>::max());

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_GROUP_STORE_H_
