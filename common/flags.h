#ifndef UPDRAFT_COMMON_FLAGS_H_
#define UPDRAFT_COMMON_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace updraft {

// Environment variable that sets flag `flag_name`: UPDRAFT_ + upper case,
// e.g. --pg_uri <- UPDRAFT_PG_URI.
std::string EnvVarForFlag(absl::string_view flag_name);

// Sets every registered absl flag whose environment variable (see
// EnvVarForFlag) is present. Called before command-line parsing, so a
// command-line flag wins over the environment. An unparsable value is an
// error naming the variable.
absl::Status ApplyFlagEnvironment();

// Splits "host:port" (port 1..65535) for flags such as --redis.
bool ParseHostPort(absl::string_view address, std::string* host, int* port);

// ApplyFlagEnvironment() then absl::ParseCommandLine(); exits with a message
// on a bad value. Returns the positional arguments.
std::vector<char*> ParseFlagsWithEnvironment(int argc, char** argv);

}  // namespace updraft

#endif  // UPDRAFT_COMMON_FLAGS_H_
