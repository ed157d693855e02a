// Writes the generated seeds of fuzz/corpus/<fuzzer>/ with the code base's own
// encoders (so the seeds are well-formed and the harnesses' genuine keys sign
// them), plus the notification test vectors.
//
//   bazel run //fuzz:corpus_tool -- $PWD/fuzz/corpus $PWD/common/testdata/notification_vectors.txt
//
// Files are named gen_*; hand-written seeds and crash reproducers (other
// names) are left alone.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/notification_format.h"
#include "common/release_metadata.h"
#include "common/revocation.h"
#include "common/token.h"
#include "fuzz/seeds.h"
#include "sdk/device/state_store.h"
#include "updraft/v1/auth.pb.h"
#include "updraft/v1/catalog.pb.h"
#include "updraft/v1/common.pb.h"
#include "updraft/v1/device_state.pb.h"

namespace updraft::fuzz {
namespace {

std::string root;

void Write(const std::string& fuzzer, const std::string& name, absl::string_view bytes) {
  const std::string dir = absl::StrCat(root, "/", fuzzer);
  mkdir(dir.c_str(), 0755);
  std::ofstream out(absl::StrCat(dir, "/gen_", name), std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), bytes.size());
  if (!out) {
    std::cerr << "cannot write " << dir << "/gen_" << name << "\n";
    std::exit(1);
  }
}

std::string U16(size_t n) {
  return std::string({static_cast<char>(n >> 8 & 0xff), static_cast<char>(n & 0xff)});
}
std::string U8Prefixed(absl::string_view s) {
  return absl::StrCat(std::string(1, static_cast<char>(s.size())), s);
}
std::string U16Prefixed(absl::string_view s) { return absl::StrCat(U16(s.size()), s); }
std::string Mode(int m) { return std::string(1, static_cast<char>(m)); }

// --- notifications ---------------------------------------------------------

std::vector<std::pair<std::string, std::string>> Vectors(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::pair<std::string, std::string>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() == 4) out.emplace_back(f[0], absl::HexStringToBytes(f[3]));
  }
  return out;
}

void Notifications(const std::string& vectors_path) {
  auto vectors = Vectors(vectors_path);
  if (vectors.empty()) {
    std::cerr << "no vectors in " << vectors_path << "\n";
    std::exit(1);
  }
  for (const auto& [name, bytes] : vectors) {
    Write("notification_format", "vector_" + name, bytes);
    Write("push_handler", "sms_" + name, Mode(0) + bytes);
  }
  const std::string valid = absl::HexStringToBytes(kValidNotificationHex);
  const std::string href = "https://push.example/n/" + NotificationToBase64(valid);
  Write("notification_format", "href", href);
  Write("push_handler", "si_href", Mode(1) + href);
  Write("push_handler", "si_document",
        Mode(1) +
            "<?xml version=\"1.0\"?>\n<!DOCTYPE si PUBLIC \"-//WAPFORUM//DTD SI 1.0//EN\" "
            "\"http://www.wapforum.org/DTD/si.dtd\">\n<si><indication href=\"" +
            href + "\" si-id=\"n1\" action=\"signal-high\">Update ready</indication></si>");
  Write("push_handler", "si_single_quotes",
        Mode(1) + "<si><indication href='https://p.example/n?a=1&amp;b=" +
            NotificationToBase64(valid) + "'/></si>");
  auto key = Ed25519KeyPair::FromPrivateKey(NotificationSeed());
  Write("push_handler", "key_cache", Mode(2) + absl::WebSafeBase64Escape(key->public_key()) + "\n");
  Write("push_handler", "seen_history",
        Mode(3) + "1767312000 0123456789abcdef\n1767312001 fedcba9876543210\n");
}

// --- catalog metadata -------------------------------------------------------

std::string DcInput(const v1::DcInfo& d, const v1::ArtifactManifest& m, absl::string_view author,
                    absl::string_view version) {
  return absl::StrCat(U16Prefixed(d.SerializeAsString()), U16Prefixed(m.SerializeAsString()),
                      U8Prefixed(author), U8Prefixed(version));
}

void Catalog() {
  v1::ArtifactManifest m;
  m.set_sha256(Sha256Hex("artifact"));
  m.set_size(8);
  m.set_chunk_size(4096);
  for (const char* f : {"bin/app", "lib/libnav.so", "share/maps/eu.db", "README"}) m.add_files(f);
  v1::DcInfo files;
  files.set_variant(v1::DcInfo::FILES);
  auto* e = files.add_entries();
  e->set_dc_id("nav-engine");
  e->add_files("bin/app");
  e->add_files("lib/libnav.so");
  e = files.add_entries();
  e->set_dc_id("maps-eu");
  e->set_name("Maps Europe");
  e->set_version("2024.1");
  e->add_files("share/maps/eu.db");
  Write("dcinfo", "files", DcInput(files, m, "Example Corp", "2.1.0"));
  v1::DcInfo triples;
  triples.set_variant(v1::DcInfo::TRIPLES);
  e = triples.add_entries();
  e->set_author("Example Corp");
  e->set_name("navigation");
  e->set_version("2.1.0");
  e = triples.add_entries();
  e->set_author("Example Corp");
  e->set_name("maps");
  e->set_version("2024.1");
  e->add_files("share/maps/eu.db");
  Write("dcinfo", "triples", DcInput(triples, m, "Example Corp", "2.1.0"));
  v1::DcInfo bad = files;
  bad.mutable_entries(0)->set_files(0, "../etc/passwd");
  Write("dcinfo", "dotdot_file", DcInput(bad, m, "Example Corp", "2.1.0"));
  bad = triples;
  bad.mutable_entries(1)->set_name("navigation");
  Write("dcinfo", "duplicate_identity", DcInput(bad, m, "Example Corp", "2.1.0"));

  v1::CheckForUpdatesRequest req;
  auto* c = req.add_inventory();
  c->set_dc_id("nav-engine");
  c->set_release_id("rel_5f2c9a");
  c->set_author("Example Corp");
  c->set_name("navigation");
  c->set_version("2.0.0");
  c->set_location(v1::DEPLOYED);
  c->set_state(v1::ACTIVE);
  c = req.add_inventory();
  c->set_release_id("rel_77aa");
  c->set_name("Kartendienst \xc3\xa4\xe2\x82\xac\xf0\x9f\x97\xba");
  c->set_version("3.0.0-beta.1");
  c->set_location(v1::DELIVERED);
  req.mutable_attributes();
  Write("catalog_validation", "inventory", req.SerializeAsString());
  req.mutable_inventory(1)->set_location(v1::COMPONENT_LOCATION_UNSPECIFIED);
  Write("catalog_validation", "unset_location", req.SerializeAsString());
  Write("catalog_validation", "surrogate", "\xed\xa0\x80 and overlong \xc0\xaf \xf4\x90\x80\x80");
}

// --- device CSV ------------------------------------------------------------

void Csv() {
  auto ed = Ed25519KeyPair::FromPrivateKey(std::string(32, '\x01'));
  auto ec = EcdsaP256KeyPair::Generate();
  const std::string ed_b64 = absl::WebSafeBase64Escape(ed->public_key());
  const std::string ec_b64 = absl::WebSafeBase64Escape(ec->public_key());
  Write("device_csv", "basic",
        absl::StrCat("device_id,key_type,public_key\nphone-1,ed25519,", ed_b64,
                     "\nphone-2,ecdsa-p256,", ec_b64, "\n"));
  Write("device_csv", "attributes_quoted",
        absl::StrCat("\xEF\xBB\xBF"
                     "device_id,key_type,public_key,model,region\r\n"
                     "\"phone-1\",ed25519,",
                     ed_b64,
                     ",\"X1, \"\"pro\"\"\",\"eu\nwest\"\r\n"
                     "\r\nphone-2, ecdsa-p256 ,",
                     ec_b64, ",,apac\r\n"));
  Write("device_csv", "duplicate",
        absl::StrCat("device_id,key_type,public_key\nphone-1,ed25519,", ed_b64,
                     "\nphone-1,ed25519,", ed_b64, "\n"));
  Write("device_csv", "bad_point",
        absl::StrCat("device_id,key_type,public_key\nphone-3,ecdsa-p256,",
                     absl::WebSafeBase64Escape(std::string(65, '\x04')), "\n"));
}

// --- package archives ------------------------------------------------------

struct Entry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string data;
  std::string link;  // symlink target or hard link source
  bool hardlink = false;
};

std::string Tar(const std::vector<Entry>& entries, bool gzip) {
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  std::vector<char> buf(1 << 20);
  size_t used = 0;
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const Entry& e : entries) {
    struct archive_entry* x = archive_entry_new();
    archive_entry_set_pathname(x, e.path.c_str());
    archive_entry_set_filetype(x, e.type);
    archive_entry_set_perm(x, e.type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(x, e.data.size());
    if (e.type == AE_IFLNK) archive_entry_set_symlink(x, e.link.c_str());
    if (e.hardlink) {
      archive_entry_set_hardlink(x, e.link.c_str());
      archive_entry_set_size(x, 0);
    }
    archive_write_header(a, x);
    if (!e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(x);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

void Archives() {
  const std::vector<Entry> package = {{"bin/", AE_IFDIR},
                                      {"bin/app", AE_IFREG, "#!/bin/sh\necho hi\n"},
                                      {"lib/libnav.so", AE_IFREG, std::string(700, 'x')},
                                      {"lib/current", AE_IFLNK, "", "libnav.so"},
                                      {"share/up", AE_IFLNK, "", "../bin/app"},
                                      {"bin/app2", AE_IFREG, "", "bin/app", true}};
  Write("tar_extract", "package", Tar(package, false));
  Write("artifact_upload", "package", Mode(0) + Tar(package, false));
  Write("artifact_upload", "package_gz", Mode(5) + Tar(package, true));
  Write("artifact_upload", "not_an_archive", Mode(10) + std::string(20000, 'z'));
  Write("tar_extract", "package_gz", Tar(package, true));
  Write("tar_extract", "dotdot", Tar({{"../escape", AE_IFREG, "x"}}, false));
  Write("tar_extract", "absolute", Tar({{"/tmp/abs", AE_IFREG, "x"}}, false));
  Write("tar_extract", "symlink_escape",
        Tar({{"evil", AE_IFLNK, "", "../outside"}, {"evil/secret", AE_IFREG, "pwned"}}, false));
  Write("tar_extract", "symlink_absolute", Tar({{"etc", AE_IFLNK, "", "/etc"}}, false));
  Write("tar_extract", "hardlink_outside",
        Tar({{"h", AE_IFREG, "", "../outside/secret", true}}, false));
  Write("tar_extract", "reserved", Tar({{"updraft/state", AE_IFREG, "x"}}, false));
  Write("tar_extract", "fifo", Tar({{"pipe", AE_IFIFO}}, false));
  Write("tar_extract", "file_over_dir",
        Tar({{"d/", AE_IFDIR}, {"d/f", AE_IFREG, "1"}, {"d", AE_IFREG, "2"}}, false));
}

// --- device state ----------------------------------------------------------

void DeviceState() {
  v1::DeviceLocalState state;
  auto* c = state.add_deployed();
  c->set_dc_id("nav-engine");
  c->set_release_id("rel_1");
  c->set_author("Example Corp");
  c->set_name("navigation");
  c->set_version("1.0.0");
  c->set_location(v1::DEPLOYED);
  c->set_state(v1::ACTIVE);
  auto* p = state.add_packages();
  p->set_package_name("navigation");
  p->set_package_id("pkg_nav");
  p->set_release_id("rel_1");
  p->set_version("1.0.0");
  p->add_dc_ids("nav-engine");
  const std::string path = root + "/state.tmp";
  if (!device::WriteStateFile(path, state).ok()) std::exit(1);
  std::ifstream in(path, std::ios::binary);
  std::stringstream file;
  file << in.rdbuf();
  std::remove(path.c_str());
  Write("device_state", "state_file", Mode(0) + file.str());
  std::string torn = file.str().substr(0, file.str().size() / 2);
  Write("device_state", "state_file_torn", Mode(0) + torn);
  Write("device_state", "key_file",
        Mode(1) + absl::WebSafeBase64Escape(std::string(32, '\x07')) + "\n");

  v1::Offer offer;
  v1::Release* r = offer.mutable_release();
  r->set_release_id("rel_2");
  r->set_package_id("pkg_nav");
  r->set_package_name("navigation");
  r->set_version("1.1.0");
  r->mutable_artifact()->set_sha256(Sha256Hex("artifact"));
  r->mutable_artifact()->set_size(8);
  r->mutable_artifact()->set_chunk_size(4096);
  r->mutable_artifact()->add_chunk_sha256(Sha256("artifact"));
  r->mutable_dcinfo()->set_variant(v1::DcInfo::FILES);
  auto* e = r->mutable_dcinfo()->add_entries();
  e->set_dc_id("nav-engine");
  e->set_author("Example Corp");
  e->set_name("navigation");
  e->set_version("1.1.0");
  Write("device_state", "offer",
        Mode(2) + U16Prefixed(state.SerializeAsString()) + offer.SerializeAsString());
  r->set_version("0.9.0");
  Write("device_state", "offer_rollback",
        Mode(2) + U16Prefixed(state.SerializeAsString()) + offer.SerializeAsString());
}

// --- small text formats ----------------------------------------------------

void Text() {
  Write("json", "controls", std::string("tab\there \"quoted\" back\\slash\x01\x1f\x7f", 34));
  Write("json", "utf8", "K\xc3\xa4rtchen \xe2\x82\xac \xf0\x9f\x97\xba");
  Write("json", "invalid_utf8", "\xff\xfe \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82");
  Write("semver", "ordered", "1.0.0-alpha\n1.0.0-alpha.1\n1.0.0-beta.11");
  Write("semver", "build", "2.1.0+build.5\n2.1.0\n10.0.0-rc.1+exp.sha.5114f85");
  Write("semver", "bad", "01.2.3\n1.2\n1.2.3-");
  Write("semver", "big", "18446744073709551615.0.0\n18446744073709551616.0.0\n0.0.0-0.a.00");
}

void Tokens() {
  auto key = *Ed25519KeyPair::FromPrivateKey(TokenSeed());
  FakeClock clock(absl::FromUnixSeconds(kTokenNow));
  TokenSigner signer(key, &clock, absl::Hours(1));
  Write("token", "device_token", Mode(0) + signer.Issue("phone-1", kDeviceAudience)->token);
  Write("token", "operator_token",
        Mode(0) + signer.Issue("key-1", kOperatorAudience, {.role = "admin"})->token);
  v1::TokenClaims claims;
  claims.set_key_id(KeyIdFor(key.public_key()));
  claims.set_subject("phone-1");
  claims.set_audience(std::string(kDeviceAudience));
  claims.set_issued_at_unix(kTokenNow - 10);
  claims.set_expires_at_unix(kTokenNow + 3600);
  claims.set_token_id("t-1");
  Write("token", "claims", Mode(1) + claims.SerializeAsString());
  claims.set_issued_at_unix(kTokenNow + 31);
  Write("token", "claims_future", Mode(1) + claims.SerializeAsString());
  Revocation r;
  r.kind = Revocation::Kind::kSubject;
  r.audience = std::string(kDeviceAudience);
  r.id = "phone-1";
  r.revoked_at = absl::FromUnixSeconds(kTokenNow);
  r.expires_at = absl::FromUnixSeconds(kTokenNow + 3600);
  Write("token", "revocation_subject", Mode(2) + EncodeRevocation(r));
  r.kind = Revocation::Kind::kToken;
  r.id = "t-1";
  Write("token", "revocation_token", Mode(2) + EncodeRevocation(r));
}

void ReleaseMetadataSeeds() {
  auto key = *Ed25519KeyPair::FromPrivateKey(PublisherSeed());
  v1::SignedReleaseMetadata genuine = *SignReleaseMetadata(GenuineReleaseMetadata(), key);
  Write("release_metadata", "genuine", Mode(0) + genuine.SerializeAsString());
  v1::SignedReleaseMetadata other = genuine;
  other.set_key_id("0000000000000000");
  Write("release_metadata", "untrusted_key", Mode(0) + other.SerializeAsString());
  Write("release_metadata", "payload", Mode(1) + genuine.metadata());
  v1::ReleaseMetadata stale = GenuineReleaseMetadata();
  stale.set_expires_at_unix(stale.issued_at_unix());
  Write("release_metadata", "payload_stale", Mode(1) + stale.SerializeAsString());
  Write("release_metadata", "key_file",
        Mode(2) + "# publishers\n" + absl::WebSafeBase64Escape(key.public_key()) + "\n\n");
}

}  // namespace
}  // namespace updraft::fuzz

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: corpus_tool CORPUS_DIR NOTIFICATION_VECTORS_FILE\n";
    return 2;
  }
  updraft::fuzz::root = argv[1];
  mkdir(argv[1], 0755);
  updraft::fuzz::Notifications(argv[2]);
  updraft::fuzz::Catalog();
  updraft::fuzz::Csv();
  updraft::fuzz::Archives();
  updraft::fuzz::DeviceState();
  updraft::fuzz::Text();
  updraft::fuzz::Tokens();
  updraft::fuzz::ReleaseMetadataSeeds();
  return 0;
}
