// updraftctl: the operator's command line over Updraft's management API.
//   updraftctl [--auth=ADDR] [--catalog=ADDR] [--download=ADDR]
//              [--tls_ca=CA.pem [--tls_cert=CERT.pem --tls_key=KEY.pem]
//               [--tls_server_name=NAME]] COMMAND [--option=value ...]
// With --tls_ca every connection is TLS verified with that CA (plaintext
// otherwise); --tls_cert/--tls_key is the operator's client certificate for
// services requiring mutual TLS.
// Every command is a management RPC: updraftctl first logs in with the API key
// in --api_key_file=PATH (or the environment variable UPDRAFT_API_KEY_FILE)
// and sends the operator token; the key's role decides what is allowed
// (admin > publisher > viewer).
// Commands:
//   register-device --device_id=ID --public_key=BASE64URL [--key_type=ed25519|ecdsa-p256]
//                   [--attribute=k=v ...]
//   import-devices  --file=devices.csv     (header device_id,key_type,public_key[,attr...])
//   list-devices    [--status=pending|accepted|rejected|revoked] [--after=ID] [--limit=N]
//   accept-device | reject-device | revoke-device  --device_id=ID [--reason=TEXT]
//   revoke-token    --token_id=HEX [--reason=TEXT]
//   create-api-key  --name=NAME --role=admin|publisher|viewer [--out=PATH]
//   revoke-api-key  --key_id=ID
//   list-api-keys
//   rotate-signing-key
//   audit           [--device_id=ID] [--limit=N] [--before=ENTRY_ID]
//   upload          --file=PATH [--chunk_size=BYTES]
//   create-package  --name=NAME --author=AUTHOR [--description=TEXT]
//   create-release  --package_id=ID --version=SEMVER --artifact_sha256=HEX
//                   (--dc=DC_1=app.bin[,f2] ... | --dc_triple=author/name/version ...)
//                   [--setting=key=value ...] [--model=M ...] [--carrier=C ...]
//                   [--min_os_version=V] [--max_os_version=V]
//   publish         --release_id=ID [--signing_key_file=PATH [--expires_in=720h]]
//   gen-publisher-key --out=PATH   (local; prints the public key for the
//                   catalog's --publisher_keys_file and for devices)
//   withdraw        --release_id=ID
//   device-state    --device_id=ID
//   group-add | group-remove  --group=NAME --device_id=ID [--device_id=ID ...]
//   group-list      --group=NAME [--after=ID] [--limit=N]
//   queue-operation --kind=update|activate|deactivate|remove --dc_id=DC
//                   (--device_id=ID | --group=NAME) [--release_id=ID]
//   operations      --device_id=ID [--limit=N]
//   scomo-tree      --device_id=ID
//   (create-release also takes --group_setting=GROUP:key=value ...)
//   campaign-create | campaign-list | campaign-show | campaign-pause |
//   campaign-resume | campaign-cancel | campaign-watch, webhook-create |
//   webhook-list | webhook-delete  (see docs/campaigns.md)
// `updraftctl COMMAND --help` describes a command; --json (before or after
// the command) prints each response as one JSON object per line.
// Exit codes: 0 success, 1 the server refused (message on stderr), 2 bad usage,
// 3 a server could not be reached, 5 campaign-watch: the campaign was
// cancelled or expired.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/tls.h"
#include "tools/updraftctl/campaign_commands.h"
#include "tools/updraftctl/commands.h"
#include "tools/updraftctl/component_commands.h"
#include "tools/updraftctl/help.h"
#include "tools/updraftctl/output.h"
#include "tools/updraftctl/signing_commands.h"

namespace {

void Usage() {
  fprintf(stderr,
          "usage: updraftctl [--auth=127.0.0.1:7401] [--catalog=127.0.0.1:7402] "
          "[--download=127.0.0.1:7403] [--tls_ca=PEM [--tls_cert=PEM --tls_key=PEM] "
          "[--tls_server_name=NAME]] [--api_key_file=PATH] COMMAND [--option=value ...]\n"
          "commands: register-device, import-devices, list-devices, accept-device, "
          "reject-device, revoke-device, revoke-token, create-api-key, revoke-api-key, "
          "list-api-keys, rotate-signing-key, audit, upload, create-package, create-release, "
          "publish, withdraw, device-state, gen-publisher-key, group-add, group-remove, "
          "group-list, queue-operation, operations, scomo-tree\n");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace updraft::ctl;
  std::map<std::string, std::string> addr = {
      {"auth", "127.0.0.1:7401"}, {"catalog", "127.0.0.1:7402"}, {"download", "127.0.0.1:7403"}};
  std::map<std::string, std::string> tls_flags = {
      {"tls_ca", ""}, {"tls_cert", ""}, {"tls_key", ""}, {"tls_server_name", ""}};
  const char* env_key_file = getenv("UPDRAFT_API_KEY_FILE");
  std::string api_key_file = env_key_file != nullptr ? env_key_file : "";
  bool json = false;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) break;
    if (a == "--json") {
      json = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      fputs(GeneralHelp().c_str(), stdout);
      return kExitOk;
    }
    size_t eq = a.find('=');
    std::string key = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (eq != std::string::npos && key == "api_key_file") {
      api_key_file = a.substr(eq + 1);
      continue;
    }
    if (eq == std::string::npos || (!addr.count(key) && !tls_flags.count(key))) {
      Usage();
      return 2;
    }
    (addr.count(key) ? addr : tls_flags)[key] = a.substr(eq + 1);
  }
  if (i >= argc) {
    Usage();
    return 2;
  }
  const std::map<std::string, Command> commands = {{"register-device", RegisterDevice},
                                                   {"import-devices", ImportDevices},
                                                   {"list-devices", ListDevices},
                                                   {"accept-device", AcceptDevice},
                                                   {"reject-device", RejectDevice},
                                                   {"revoke-device", RevokeDevice},
                                                   {"revoke-token", RevokeToken},
                                                   {"create-api-key", CreateApiKey},
                                                   {"revoke-api-key", RevokeApiKey},
                                                   {"list-api-keys", ListApiKeys},
                                                   {"rotate-signing-key", RotateSigningKey},
                                                   {"audit", Audit},
                                                   {"upload", Upload},
                                                   {"create-package", CreatePackage},
                                                   {"create-release", CreateRelease},
                                                   {"publish", Publish},
                                                   {"withdraw", Withdraw},
                                                   {"device-state", DeviceState},
                                                   {"group-add", GroupAdd},
                                                   {"group-remove", GroupRemove},
                                                   {"group-list", GroupList},
                                                   {"queue-operation", QueueOperation},
                                                   {"operations", Operations},
                                                   {"scomo-tree", ScomoTree},
                                                   {"gen-publisher-key", GenPublisherKey},
                                                   {"campaign-create", CampaignCreate},
                                                   {"campaign-list", CampaignList},
                                                   {"campaign-show", CampaignShow},
                                                   {"campaign-pause", CampaignPause},
                                                   {"campaign-resume", CampaignResume},
                                                   {"campaign-cancel", CampaignCancel},
                                                   {"campaign-watch", CampaignWatch},
                                                   {"webhook-create", WebhookCreate},
                                                   {"webhook-list", WebhookList},
                                                   {"webhook-delete", WebhookDelete}};
  auto cmd = commands.find(argv[i]);
  if (cmd == commands.end()) {
    fprintf(stderr, "unknown command '%s'\n", argv[i]);
    Usage();
    return 2;
  }
  const std::string command = argv[i];
  std::vector<std::string> raw;
  for (int k = i + 1; k < argc; ++k) {
    std::string a = argv[k];
    if (a == "--help" || a == "-h") {
      std::string help = CommandHelp(command);
      fputs(help.empty() ? GeneralHelp().c_str() : help.c_str(), stdout);
      return kExitOk;
    }
    if (a == "--json") {
      json = true;
    } else {
      raw.push_back(a);
    }
  }
  Args args;
  absl::Status parsed = ParseArgs(raw, &args);
  if (!parsed.ok()) {
    fprintf(stderr, "%s: %s\n", argv[i], std::string(parsed.message()).c_str());
    return 2;
  }
  updraft::TlsOptions tls;
  tls.ca_file = tls_flags["tls_ca"];
  tls.client_cert_file = tls_flags["tls_cert"];
  tls.client_key_file = tls_flags["tls_key"];
  tls.server_name_override = tls_flags["tls_server_name"];
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  ResponseRecorder recorder;
  for (const auto& [name, address] : addr) {
    auto channel = MakeRecordingChannel(address, tls, &recorder);
    if (!channel.ok()) {
      fprintf(stderr, "--%s / --tls_*: %s\n", name.c_str(),
              std::string(channel.status().message()).c_str());
      return 2;
    }
    channels[name] = *channel;
  }
  if (std::string(argv[i]) == "gen-publisher-key") {  // local: no server, no login
    Stubs none;
    absl::Status s = GenPublisherKey(args, none, stdout);
    if (!s.ok())
      fprintf(stderr, "gen-publisher-key failed: %s\n", std::string(s.message()).c_str());
    return s.ok() ? 0 : (s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1);
  }
  if (api_key_file.empty()) {
    fprintf(stderr, "%s: --api_key_file (or UPDRAFT_API_KEY_FILE) is required\n", argv[i]);
    return 2;
  }
  Stubs stubs;
  stubs.auth = updraft::v1::Auth::NewStub(channels["auth"]);
  stubs.auth_admin = updraft::v1::AuthAdmin::NewStub(channels["auth"]);
  stubs.catalog = updraft::v1::CatalogAdmin::NewStub(channels["catalog"]);
  stubs.download = updraft::v1::Download::NewStub(channels["download"]);
  stubs.campaigns = updraft::v1::CampaignAdmin::NewStub(channels["catalog"]);
  stubs.json = json;
  absl::Status s = LogIn(api_key_file, stubs);
  if (!s.ok()) {
    fprintf(stderr, "%s: cannot log in: %s: %s\n", argv[i],
            absl::StatusCodeToString(s.code()).c_str(), std::string(s.message()).c_str());
    return s.code() == absl::StatusCode::kInvalidArgument ? kExitUsage : ExitCodeFor(s);
  }
  recorder.Take();  // The login response holds the token: never printed.
  FILE* human = stdout;
  if (json && command != "campaign-watch") human = fopen("/dev/null", "w");
  s = cmd->second(args, stubs, human != nullptr ? human : stdout);
  if (json && command != "campaign-watch") {
    for (const auto& message : recorder.Take()) printf("%s\n", ToJson(*message).c_str());
  }
  if (!s.ok()) {
    fprintf(stderr, "%s failed: %s: %s\n", argv[i], absl::StatusCodeToString(s.code()).c_str(),
            std::string(s.message()).c_str());
    if (command == "campaign-watch" && s.code() == absl::StatusCode::kFailedPrecondition) {
      return kExitCampaignNotCompleted;
    }
    return ExitCodeFor(s);
  }
  return kExitOk;
}
