#include "common/flags.h"

#include <cstdio>
#include <cstdlib>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace updraft {

std::string EnvVarForFlag(absl::string_view flag_name) {
  return absl::StrCat("UPDRAFT_", absl::AsciiStrToUpper(flag_name));
}

absl::Status ApplyFlagEnvironment() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    std::string var = EnvVarForFlag(name);
    const char* value = getenv(var.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(var, "=", value, ": ", error));
    }
  }
  return absl::OkStatus();
}

std::vector<char*> ParseFlagsWithEnvironment(int argc, char** argv) {
  absl::Status env = ApplyFlagEnvironment();
  if (!env.ok()) {
    fprintf(stderr, "bad environment: %s\n", std::string(env.message()).c_str());
    exit(2);
  }
  return absl::ParseCommandLine(argc, argv);
}

}  // namespace updraft
