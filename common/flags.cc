#include "common/flags.h"

#include <cstdio>
#include <cstdlib>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
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

bool ParseHostPort(absl::string_view address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  int p = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &p) || p <= 0 || p >= 65536) return false;
  *host = std::string(address.substr(0, colon));
  *port = p;
  return true;
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
