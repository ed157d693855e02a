#include "services/catalog/group_settings.h"

#include <algorithm>

namespace updraft::catalog {

std::vector<std::string> ApplyGroupSettings(v1::Release* release,
                                            const std::vector<std::string>& device_groups) {
  std::vector<std::string> applied;
  for (const v1::GroupSettings& g : release->group_settings()) {
    if (std::find(device_groups.begin(), device_groups.end(), g.group()) == device_groups.end()) {
      continue;
    }
    for (const auto& [key, value] : g.settings()) (*release->mutable_settings())[key] = value;
    applied.push_back(g.group());
  }
  release->clear_group_settings();
  return applied;
}

}  // namespace updraft::catalog
