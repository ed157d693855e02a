#ifndef UPDRAFT_TOOLS_UPDRAFTCTL_HELP_H_
#define UPDRAFT_TOOLS_UPDRAFTCTL_HELP_H_

#include <string>

namespace updraft::ctl {

// `updraftctl COMMAND --help`: the command's synopsis and flags; empty for
// a command without an entry.
std::string CommandHelp(const std::string& command);

// The global flags, the exit codes and the command list.
std::string GeneralHelp();

}  // namespace updraft::ctl

#endif  // UPDRAFT_TOOLS_UPDRAFTCTL_HELP_H_
