#include "tools/updraftctl/help.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace updraft::ctl {
namespace {

const std::map<std::string, std::string>& Entries() {
  static const auto* entries = new std::map<std::string, std::string>{
      {"register-device",
       "register-device --device_id=ID --public_key=BASE64URL [--key_type=ed25519|ecdsa-p256]\n"
       "                [--attribute=k=v ...]\n  Registers one device with auth (accepted).\n"},
      {"import-devices",
       "import-devices --file=devices.csv\n  Imports devices from CSV (header "
       "device_id,key_type,public_key[,attr...]); all or nothing.\n"},
      {"list-devices",
       "list-devices [--status=pending|accepted|rejected|revoked] [--after=ID] [--limit=N]\n"},
      {"accept-device",
       "accept-device --device_id=ID [--reason=TEXT]\n  Admits a pending device.\n"},
      {"reject-device", "reject-device --device_id=ID [--reason=TEXT]\n"},
      {"revoke-device", "revoke-device --device_id=ID [--reason=TEXT]\n"},
      {"revoke-token", "revoke-token --token_id=HEX [--reason=TEXT]\n"},
      {"create-api-key",
       "create-api-key --name=NAME --role=admin|publisher|viewer [--out=PATH]\n"
       "  Without --out the key is printed (once).\n"},
      {"revoke-api-key", "revoke-api-key --key_id=ID\n"},
      {"list-api-keys", "list-api-keys\n"},
      {"rotate-signing-key", "rotate-signing-key\n  Rotates auth's token signing key.\n"},
      {"audit", "audit [--device_id=ID] [--limit=N] [--before=ENTRY_ID]\n"},
      {"upload", "upload --file=PATH [--chunk_size=BYTES]\n  Uploads an artifact.\n"},
      {"create-package", "create-package --name=NAME --author=AUTHOR [--description=TEXT]\n"},
      {"create-release",
       "create-release --package_id=ID --version=SEMVER --artifact_sha256=HEX\n"
       "               (--dc=DC_1=app.bin[,f2] ... | --dc_triple=author/name/version ...)\n"
       "               [--setting=key=value ...] [--model=M ...] [--carrier=C ...]\n"
       "               [--min_os_version=V] [--max_os_version=V]\n"},
      {"publish", "publish --release_id=ID [--signing_key_file=PATH [--expires_in=720h]]\n"},
      {"withdraw", "withdraw --release_id=ID\n"},
      {"device-state", "device-state --device_id=ID\n  Inventory and report history.\n"},
      {"gen-publisher-key", "gen-publisher-key --out=PATH\n  Local: creates a publisher key.\n"},
      {"group-add", "group-add --group=NAME --device_id=ID [--device_id=ID ...]\n"},
      {"group-remove", "group-remove --group=NAME --device_id=ID [--device_id=ID ...]\n"},
      {"group-list", "group-list --group=NAME [--after=ID] [--limit=N]\n"},
      {"queue-operation",
       "queue-operation --kind=update|activate|deactivate|remove --dc_id=DC\n"
       "                (--device_id=ID | --group=NAME) [--release_id=ID]\n"},
      {"operations", "operations --device_id=ID [--limit=N]\n"},
      {"scomo-tree", "scomo-tree --device_id=ID\n"},
      {"campaign-create",
       "campaign-create --name=NAME --release_id=ID\n"
       "    targets (any mix): --device_id=ID ... --devices_file=PATH (one ID a line)\n"
       "                       --group=NAME ... --model=M ... --carrier=C ...\n"
       "                       --min_os_version=V --max_os_version=V\n"
       "    --wave=10% --wave=500 --wave=100% ...   (percent of the targets or a count;\n"
       "                                             the last wave takes the rest)\n"
       "    [--success_threshold=0.95]  installed share of a wave before the next starts\n"
       "    [--error_threshold=0.05]    failed share of a wave that pauses the campaign\n"
       "    [--channel=ip_push|sms|wap_push ...] [--ttl=720h] [--jitter=10m]\n"
       "    [--quiet_hours=22:00-07:00 [--time_zone=Europe/Paris]]\n"
       "    [--max_retries=N] [--retry_delay=10m]\n"
       "    [--gate_offers=true]  offer the release only to devices whose wave started\n"
       "  Needs role publisher.\n"},
      {"campaign-list", "campaign-list [--after=CAMPAIGN_ID] [--limit=N]\n"},
      {"campaign-show", "campaign-show --campaign_id=ID\n  State and per-wave counters.\n"},
      {"campaign-pause", "campaign-pause --campaign_id=ID [--reason=TEXT]\n"},
      {"campaign-resume",
       "campaign-resume --campaign_id=ID [--reason=TEXT]\n"
       "  Failed devices get another attempt.\n"},
      {"campaign-cancel", "campaign-cancel --campaign_id=ID [--reason=TEXT]\n"},
      {"campaign-watch",
       "campaign-watch --campaign_id=ID [--events=campaign|all]\n"
       "  Streams events and a progress bar per wave until the campaign ends.\n"
       "  Exit 0 when it completed, 5 when it was cancelled or expired.\n"
       "  --events=all also prints every device's events (default: campaign events and\n"
       "  device failures). With --json: one JSON object per update.\n"},
      {"webhook-create",
       "webhook-create --url=https://... --secret_file=PATH [--campaign_id=ID]\n"
       "  Campaign events are POSTed as JSON with X-Updraft-Timestamp and\n"
       "  X-Updraft-Signature: sha256=HMAC-SHA256(secret, timestamp + \".\" + body).\n"
       "  Needs role admin.\n"},
      {"webhook-list", "webhook-list\n"},
      {"webhook-delete", "webhook-delete --webhook_id=ID\n"},
  };
  return *entries;
}

}  // namespace

std::string CommandHelp(const std::string& command) {
  auto it = Entries().find(command);
  if (it == Entries().end()) return "";
  return absl::StrCat(
      "usage: updraftctl [global flags] ", it->second,
      "Add --json for machine-readable output. Exit codes: see updraftctl --help.\n");
}

std::string GeneralHelp() {
  std::string s =
      "usage: updraftctl [--auth=127.0.0.1:7401] [--catalog=127.0.0.1:7402]\n"
      "                  [--download=127.0.0.1:7403] [--tls_ca=PEM [--tls_cert=PEM "
      "--tls_key=PEM]\n"
      "                  [--tls_server_name=NAME]] [--api_key_file=PATH] [--json]\n"
      "                  COMMAND [--option=value ...]\n"
      "       updraftctl COMMAND --help\n"
      "--json prints each response as one JSON object per line instead of tables.\n"
      "Exit codes: 0 success, 1 the server refused (message on stderr), 2 bad usage,\n"
      "            3 a server could not be reached, 5 campaign-watch: the campaign was\n"
      "            cancelled or expired.\n"
      "commands:\n";
  for (const auto& [name, text] : Entries()) absl::StrAppend(&s, "  ", name, "\n");
  return s;
}

}  // namespace updraft::ctl
