#ifndef UPDRAFT_TOOLS_UPDRAFTCTL_COMMANDS_H_
#define UPDRAFT_TOOLS_UPDRAFTCTL_COMMANDS_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "updraft/v1/auth.grpc.pb.h"
#include "updraft/v1/catalog.grpc.pb.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::ctl {

// The management stubs a command may use; built in main() from flags.
struct Stubs {
  std::unique_ptr<v1::AuthAdmin::StubInterface> auth_admin;
  std::unique_ptr<v1::CatalogAdmin::StubInterface> catalog;
  std::unique_ptr<v1::Download::StubInterface> download;
};

// Parsed command line of one updraftctl command: `--key=value` options (a key
// may repeat) after the command name.
struct Args {
  std::vector<std::pair<std::string, std::string>> options;
  // Last value of `key`, or "" when absent.
  std::string Get(const std::string& key) const;
  std::vector<std::string> GetAll(const std::string& key) const;
};

// Parses `--key=value` / `--key value` pairs; INVALID_ARGUMENT on anything else.
absl::Status ParseArgs(const std::vector<std::string>& raw, Args* out);

// One command: writes human-readable output to `out`.
using Command = absl::Status (*)(const Args&, Stubs&, FILE* out);

absl::Status RegisterDevice(const Args& args, Stubs& stubs, FILE* out);
absl::Status Upload(const Args& args, Stubs& stubs, FILE* out);
absl::Status CreatePackage(const Args& args, Stubs& stubs, FILE* out);
absl::Status CreateRelease(const Args& args, Stubs& stubs, FILE* out);
absl::Status Publish(const Args& args, Stubs& stubs, FILE* out);
absl::Status DeviceState(const Args& args, Stubs& stubs, FILE* out);

// Parses a --dc value "DC_1=app.bin,lib/x.so" (variant A) into an entry.
absl::Status ParseDcFiles(const std::string& value, v1::DcEntry* entry);
// Parses a --dc_triple value "author/name/version" (variant B).
absl::Status ParseDcTriple(const std::string& value, v1::DcEntry* entry);

}  // namespace updraft::ctl

#endif  // UPDRAFT_TOOLS_UPDRAFTCTL_COMMANDS_H_
