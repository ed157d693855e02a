#ifndef UPDRAFT_SERVICES_CATALOG_GROUP_SETTINGS_H_
#define UPDRAFT_SERVICES_CATALOG_GROUP_SETTINGS_H_

#include <string>
#include <vector>

#include "updraft/v1/catalog.pb.h"

namespace updraft::catalog {

// Turns a release into what one device gets (the configure step's
// settings): release.settings, then the override of every group in
// release.group_settings that `device_groups` contains, in the order the
// release lists them; a later override replaces an earlier value of the
// same key. group_settings is cleared (a device never sees other groups'
// overrides). Returns the groups applied, in order. Pure function.
std::vector<std::string> ApplyGroupSettings(v1::Release* release,
                                            const std::vector<std::string>& device_groups);

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_GROUP_SETTINGS_H_
