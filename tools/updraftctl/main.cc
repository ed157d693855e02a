// updraftctl: the operator's command line over Updraft's management API.
//   updraftctl [--auth=ADDR] [--catalog=ADDR] [--download=ADDR] COMMAND [--option=value ...]
// Commands:
//   register-device --device_id=ID --public_key=BASE64URL [--attribute=k=v ...]
//   upload          --file=PATH [--chunk_size=BYTES]
//   create-package  --name=NAME --author=AUTHOR [--description=TEXT]
//   create-release  --package_id=ID --version=SEMVER --artifact_sha256=HEX
//                   (--dc=DC_1=app.bin[,f2] ... | --dc_triple=author/name/version ...)
//                   [--setting=key=value ...]
//   publish         --release_id=ID
//   device-state    --device_id=ID
// Exit codes: 0 success, 1 the server refused (message on stderr), 2 bad usage.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "tools/updraftctl/commands.h"

namespace {

void Usage() {
  fprintf(stderr,
          "usage: updraftctl [--auth=127.0.0.1:7401] [--catalog=127.0.0.1:7402] "
          "[--download=127.0.0.1:7403] COMMAND [--option=value ...]\n"
          "commands: register-device, upload, create-package, create-release, publish, "
          "device-state\n");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace updraft::ctl;
  std::map<std::string, std::string> addr = {
      {"auth", "127.0.0.1:7401"}, {"catalog", "127.0.0.1:7402"}, {"download", "127.0.0.1:7403"}};
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) break;
    size_t eq = a.find('=');
    std::string key = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (eq == std::string::npos || !addr.count(key)) {
      Usage();
      return 2;
    }
    addr[key] = a.substr(eq + 1);
  }
  if (i >= argc) {
    Usage();
    return 2;
  }
  const std::map<std::string, Command> commands = {
      {"register-device", RegisterDevice}, {"upload", Upload},   {"create-package", CreatePackage},
      {"create-release", CreateRelease},   {"publish", Publish}, {"device-state", DeviceState}};
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
  auto insecure = grpc::InsecureChannelCredentials();
  Stubs stubs;
  stubs.auth_admin = updraft::v1::AuthAdmin::NewStub(grpc::CreateChannel(addr["auth"], insecure));
  stubs.catalog =
      updraft::v1::CatalogAdmin::NewStub(grpc::CreateChannel(addr["catalog"], insecure));
  stubs.download = updraft::v1::Download::NewStub(grpc::CreateChannel(addr["download"], insecure));
  absl::Status s = cmd->second(args, stubs, stdout);
  if (!s.ok()) {
    fprintf(stderr, "%s failed: %s: %s\n", argv[i], absl::StatusCodeToString(s.code()).c_str(),
            std::string(s.message()).c_str());
    return s.code() == absl::StatusCode::kInvalidArgument && s.message().find("--") == 0 ? 2 : 1;
  }
  return 0;
}
