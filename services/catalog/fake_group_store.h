#ifndef UPDRAFT_SERVICES_CATALOG_FAKE_GROUP_STORE_H_
#define UPDRAFT_SERVICES_CATALOG_FAKE_GROUP_STORE_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/catalog/group_store.h"

namespace updraft::catalog {

// In-memory GroupStore with PgGroupStore's contract, for unit tests.
class FakeGroupStore : public GroupStore {
 public:
  absl::StatusOr<int> AddMembers(const std::string& group,
                                 const std::vector<std::string>& device_ids,
                                 absl::Time now) override;
  absl::StatusOr<int> RemoveMembers(const std::string& group,
                                    const std::vector<std::string>& device_ids) override;
  absl::StatusOr<std::vector<std::string>> ListMembers(const std::string& group,
                                                       const std::string& after_device_id,
                                                       int limit) override;
  absl::StatusOr<std::vector<std::string>> GroupsOf(const std::string& device_id) override;

  // How many times GroupsOf() was called (hot-path tests).
  int groups_of_calls() {
    absl::MutexLock lock(&mu_);
    return groups_of_calls_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::set<std::string>> members_ ABSL_GUARDED_BY(mu_);
  int groups_of_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_FAKE_GROUP_STORE_H_
