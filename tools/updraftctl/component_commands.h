#ifndef UPDRAFT_TOOLS_UPDRAFTCTL_COMPONENT_COMMANDS_H_
#define UPDRAFT_TOOLS_UPDRAFTCTL_COMPONENT_COMMANDS_H_

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "tools/updraftctl/commands.h"
#include "updraft/v1/catalog.pb.h"

namespace updraft::ctl {

// updraftctl commands for device groups, per-component operations and the
// SCOMO tree (CatalogAdmin RPCs); output is human-readable tables.
//   group-add        --group=NAME --device_id=ID [--device_id=ID ...]
//   group-remove     --group=NAME --device_id=ID [--device_id=ID ...]
//   group-list       --group=NAME [--after=ID] [--limit=N]
//   queue-operation  --kind=update|activate|deactivate|remove --dc_id=DC
//                    (--device_id=ID | --group=NAME) [--release_id=ID]
//   operations       --device_id=ID [--limit=N]
//   scomo-tree       --device_id=ID
absl::Status GroupAdd(const Args& args, Stubs& stubs, FILE* out);
absl::Status GroupRemove(const Args& args, Stubs& stubs, FILE* out);
absl::Status GroupList(const Args& args, Stubs& stubs, FILE* out);
absl::Status QueueOperation(const Args& args, Stubs& stubs, FILE* out);
absl::Status Operations(const Args& args, Stubs& stubs, FILE* out);
absl::Status ScomoTree(const Args& args, Stubs& stubs, FILE* out);

// Parses create-release's --group_setting value "GROUP:key=value" into
// `release` (one GroupSettings per group, in first-mention order: the
// precedence order).
absl::Status ParseGroupSetting(const std::string& value, v1::CreateReleaseRequest* release);

}  // namespace updraft::ctl

#endif  // UPDRAFT_TOOLS_UPDRAFTCTL_COMPONENT_COMMANDS_H_
