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
//   publish         --release_id=ID
//   withdraw        --release_id=ID
//   device-state    --device_id=ID
// Exit codes: 0 success, 1 the server refused (message on stderr), 2 bad usage.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/tls.h"
#include "tools/updraftctl/commands.h"

namespace {

void Usage() {
  fprintf(stderr,
          "usage: updraftctl [--auth=127.0.0.1:7401] [--catalog=127.0.0.1:7402] "
          "[--download=127.0.0.1:7403] [--tls_ca=PEM [--tls_cert=PEM --tls_key=PEM] "
          "[--tls_server_name=NAME]] [--api_key_file=PATH] COMMAND [--option=value ...]\n"
          "commands: register-device, import-devices, list-devices, accept-device, "
          "reject-device, revoke-device, revoke-token, create-api-key, revoke-api-key, "
          "list-api-keys, rotate-signing-key, audit, upload, create-package, create-release, "
          "publish, withdraw, device-state\n");
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
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) break;
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
                                                   {"device-state", DeviceState}};
  auto cmd = commands.find(argv[i]);
  if (cmd == commands.end()) {
    fprintf(stderr, "unknown command '%s'\n", argv[i]);
    Usage();
    return 2;
  }
  Args args;
  absl::Status parsed = ParseArgs(std::vector<std::string>(argv + i + 1, argv + argc), &args);
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
  for (const auto& [name, address] : addr) {
    auto channel = updraft::MakeChannel(address, tls);
    if (!channel.ok()) {
      fprintf(stderr, "--%s / --tls_*: %s\n", name.c_str(),
              std::string(channel.status().message()).c_str());
      return 2;
    }
    channels[name] = *channel;
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
  absl::Status s = LogIn(api_key_file, stubs);
  if (!s.ok()) {
    fprintf(stderr, "%s: cannot log in: %s: %s\n", argv[i],
            absl::StatusCodeToString(s.code()).c_str(), std::string(s.message()).c_str());
    return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  s = cmd->second(args, stubs, stdout);
  if (!s.ok()) {
    fprintf(stderr, "%s failed: %s: %s\n", argv[i], absl::StatusCodeToString(s.code()).c_str(),
            std::string(s.message()).c_str());
    return s.code() == absl::StatusCode::kInvalidArgument && s.message().find("--") == 0 ? 2 : 1;
  }
  return 0;
}
