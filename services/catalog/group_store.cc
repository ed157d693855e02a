#include "services/catalog/group_store.h"

#include "common/status_util.h"

namespace updraft::catalog {
namespace {

constexpr int kMembersPage = 1000;

}  // namespace

absl::StatusOr<std::vector<std::string>> ListAllMembers(GroupStore& groups,
                                                        const std::string& group,
                                                        size_t stop_after) {
  std::vector<std::string> members;
  std::string after;
  for (;;) {
    UPDRAFT_ASSIGN_OR_RETURN(std::vector<std::string> page,
                             groups.ListMembers(group, after, kMembersPage));
    members.insert(members.end(), page.begin(), page.end());
    if (members.size() > stop_after || page.size() < static_cast<size_t>(kMembersPage)) break;
    after = page.back();
  }
  return members;
}

}  // namespace updraft::catalog
