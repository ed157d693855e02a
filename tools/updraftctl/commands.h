#ifndef UPDRAFT_TOOLS_UPDRAFTCTL_COMMANDS_H_
#define UPDRAFT_TOOLS_UPDRAFTCTL_COMMANDS_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "updraft/v1/auth.grpc.pb.h"
#include "updraft/v1/campaign.grpc.pb.h"
#include "updraft/v1/catalog.grpc.pb.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::ctl {

// The management stubs a command may use, built in main() from flags, and
// the operator token every call carries (set by LogIn).
struct Stubs {
  std::unique_ptr<v1::Auth::StubInterface> auth;
  std::unique_ptr<v1::AuthAdmin::StubInterface> auth_admin;
  std::unique_ptr<v1::CatalogAdmin::StubInterface> catalog;
  std::unique_ptr<v1::Download::StubInterface> download;
  std::unique_ptr<v1::CampaignAdmin::StubInterface> campaigns;
  std::string token;
  // --json: commands that stream (campaign-watch) print JSON lines
  // themselves; the others' responses are printed by main().
  bool json = false;
};

// Parsed command line of one updraftctl command: `--key=value` options (a key
// may repeat) after the command name.
struct Args {
  std::vector<std::pair<std::string, std::string>> options;
  // Last value of `key`, or "" when absent.
  std::string Get(const std::string& key) const;
  std::vector<std::string> GetAll(const std::string& key) const;
};

// A context for one management call: the operator token and, unless
// `deadline` is false (a watch), a 60 s deadline.
std::unique_ptr<grpc::ClientContext> Context(const Stubs& stubs, bool deadline = true);
// "YYYY-MM-DD HH:MM:SS" in UTC, or "-" for 0.
std::string Time(int64_t unix_seconds);
// INVALID_ARGUMENT "--KEY is required" for the first option missing.
absl::Status Require(const Args& args, std::initializer_list<const char*> keys);

// Parses `--key=value` / `--key value` pairs; INVALID_ARGUMENT on anything else.
absl::Status ParseArgs(const std::vector<std::string>& raw, Args* out);

// One command: writes human-readable output to `out`.
using Command = absl::Status (*)(const Args&, Stubs&, FILE* out);

// Logs in with the API key in `api_key_file` (Auth.OperatorLogin) and keeps
// the operator token in `stubs.token`.
absl::Status LogIn(const std::string& api_key_file, Stubs& stubs);

absl::Status RegisterDevice(const Args& args, Stubs& stubs, FILE* out);
absl::Status Upload(const Args& args, Stubs& stubs, FILE* out);
absl::Status CreatePackage(const Args& args, Stubs& stubs, FILE* out);
absl::Status CreateRelease(const Args& args, Stubs& stubs, FILE* out);
absl::Status Withdraw(const Args& args, Stubs& stubs, FILE* out);
absl::Status DeviceState(const Args& args, Stubs& stubs, FILE* out);
absl::Status ListDevices(const Args& args, Stubs& stubs, FILE* out);
absl::Status ImportDevices(const Args& args, Stubs& stubs, FILE* out);
absl::Status AcceptDevice(const Args& args, Stubs& stubs, FILE* out);
absl::Status RejectDevice(const Args& args, Stubs& stubs, FILE* out);
absl::Status RevokeDevice(const Args& args, Stubs& stubs, FILE* out);
absl::Status RevokeToken(const Args& args, Stubs& stubs, FILE* out);
// --name --role [--out=PATH]: without --out the key is printed (once).
absl::Status CreateApiKey(const Args& args, Stubs& stubs, FILE* out);
absl::Status RevokeApiKey(const Args& args, Stubs& stubs, FILE* out);
absl::Status ListApiKeys(const Args& args, Stubs& stubs, FILE* out);
absl::Status RotateSigningKey(const Args& args, Stubs& stubs, FILE* out);
absl::Status Audit(const Args& args, Stubs& stubs, FILE* out);

// Parses a --dc value "DC_1=app.bin,lib/x.so" (variant A) into an entry.
absl::Status ParseDcFiles(const std::string& value, v1::DcEntry* entry);
// Parses a --dc_triple value "author/name/version" (variant B).
absl::Status ParseDcTriple(const std::string& value, v1::DcEntry* entry);

}  // namespace updraft::ctl

#endif  // UPDRAFT_TOOLS_UPDRAFTCTL_COMMANDS_H_
