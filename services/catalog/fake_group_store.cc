#include "services/catalog/fake_group_store.h"

namespace updraft::catalog {

absl::StatusOr<int> FakeGroupStore::AddMembers(const std::string& group,
                                               const std::vector<std::string>& device_ids,
                                               absl::Time) {
  absl::MutexLock lock(&mu_);
  int added = 0;
  for (const std::string& id : device_ids) added += members_[group].insert(id).second ? 1 : 0;
  return added;
}

absl::StatusOr<int> FakeGroupStore::RemoveMembers(const std::string& group,
                                                  const std::vector<std::string>& device_ids) {
  absl::MutexLock lock(&mu_);
  auto it = members_.find(group);
  if (it == members_.end()) return 0;
  int removed = 0;
  for (const std::string& id : device_ids) removed += static_cast<int>(it->second.erase(id));
  if (it->second.empty()) members_.erase(it);
  return removed;
}

absl::StatusOr<std::vector<std::string>> FakeGroupStore::ListMembers(
    const std::string& group, const std::string& after_device_id, int limit) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  auto it = members_.find(group);
  if (it == members_.end()) return out;
  for (auto m = it->second.upper_bound(after_device_id);
       m != it->second.end() && static_cast<int>(out.size()) < limit; ++m) {
    out.push_back(*m);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> FakeGroupStore::GroupsOf(const std::string& device_id) {
  absl::MutexLock lock(&mu_);
  ++groups_of_calls_;
  std::vector<std::string> out;
  for (const auto& [group, members] : members_) {
    if (members.count(device_id) > 0) out.push_back(group);
  }
  return out;
}

}  // namespace updraft::catalog
