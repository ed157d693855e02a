// Fuzzes the signed binary notification (common/notification_format.h) that
// arrives over binary SMS, WAP Push and IP Push: ParseNotification,
// NotificationVerifier::Accept and the base64url href form.
//
// Invariants:
//  - a parsed notification is exactly signed_part || 64-byte signature, with
//    an 8-byte ID, a 4-byte key ID and non-empty fields of at most 255 bytes;
//  - re-encoding the parsed fields gives the same signed bytes (when the
//    input names the test key), i.e. serialize(parse(x)) == x;
//  - the verifier, trusting the test key, accepts only the two genuine test
//    vectors (common/testdata/notification_vectors.txt): any other byte
//    string, however close, is refused;
//  - NotificationFromHref(href of x) == x.
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/notification_format.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/seeds.h"

namespace updraft {
namespace {

struct Fixture {
  Ed25519KeyPair key = *Ed25519KeyPair::FromPrivateKey(fuzz::NotificationSeed());
  std::string valid = absl::HexStringToBytes(fuzz::kValidNotificationHex);
  std::string long_fields = absl::HexStringToBytes(fuzz::kLongFieldsNotificationHex);
  FakeClock clock{absl::FromUnixSeconds(fuzz::kNotificationVerifyAt)};
};

const Fixture& Get() {
  static const Fixture* f = new Fixture();
  return *f;
}

void CheckParsed(const Fixture& f, absl::string_view bytes) {
  absl::StatusOr<ParsedNotification> p = ParseNotification(bytes);
  if (!p.ok()) {
    UPDRAFT_FUZZ_CHECK(absl::IsInvalidArgument(p.status()));
    return;
  }
  UPDRAFT_FUZZ_CHECK(p->signature.size() == kEd25519SignatureSize);
  UPDRAFT_FUZZ_CHECK(absl::StrCat(p->signed_part, p->signature) == bytes);
  UPDRAFT_FUZZ_CHECK(p->fields.id.size() == kNotificationIdSize);
  UPDRAFT_FUZZ_CHECK(p->key_id.size() == kNotificationKeyIdSize);
  for (const std::string* s :
       {&p->fields.server_address, &p->fields.software_name, &p->fields.location}) {
    UPDRAFT_FUZZ_CHECK(!s->empty() && s->size() <= kNotificationMaxFieldSize);
  }
  UPDRAFT_FUZZ_CHECK(NotificationIdHex(p->fields.id).size() == 2 * kNotificationIdSize);

  absl::StatusOr<std::string> again = EncodeNotification(p->fields, f.key);
  if (!again.ok()) {
    // Only the times can make parsed fields unencodable.
    UPDRAFT_FUZZ_CHECK(p->fields.expires_at_unix <= p->fields.timestamp_unix);
    return;
  }
  absl::StatusOr<ParsedNotification> reparsed = ParseNotification(*again);
  UPDRAFT_FUZZ_CHECK(reparsed.ok());
  UPDRAFT_FUZZ_CHECK(reparsed->fields.id == p->fields.id);
  UPDRAFT_FUZZ_CHECK(reparsed->fields.server_address == p->fields.server_address);
  UPDRAFT_FUZZ_CHECK(reparsed->fields.software_name == p->fields.software_name);
  UPDRAFT_FUZZ_CHECK(reparsed->fields.location == p->fields.location);
  UPDRAFT_FUZZ_CHECK(reparsed->fields.timestamp_unix == p->fields.timestamp_unix);
  UPDRAFT_FUZZ_CHECK(reparsed->fields.expires_at_unix == p->fields.expires_at_unix);
  if (p->key_id == NotificationKeyId(f.key.public_key())) {
    UPDRAFT_FUZZ_CHECK(reparsed->signed_part == p->signed_part);
  }
}

void CheckVerifier(const Fixture& f, absl::string_view bytes) {
  NotificationVerifier::Options o;
  o.trusted_keys = {f.key.public_key()};
  o.clock = &f.clock;
  NotificationVerifier verifier(std::move(o));
  absl::StatusOr<NotificationFields> accepted = verifier.Accept(bytes);
  if (accepted.ok()) {
    UPDRAFT_FUZZ_CHECK_MSG(bytes == f.valid || bytes == f.long_fields,
                           "verifier accepted bytes that are not a genuine notification");
    // A second delivery (replay, or the same notification over another
    // channel) is refused.
    UPDRAFT_FUZZ_CHECK(absl::IsAlreadyExists(verifier.Accept(bytes).status()));
  } else {
    absl::StatusCode c = accepted.status().code();
    UPDRAFT_FUZZ_CHECK(c == absl::StatusCode::kInvalidArgument ||
                       c == absl::StatusCode::kUnauthenticated ||
                       c == absl::StatusCode::kFailedPrecondition);
  }
}

void CheckHref(absl::string_view bytes) {
  if (!bytes.empty()) {
    std::string href = absl::StrCat("https://push.example/n/", NotificationToBase64(bytes));
    absl::StatusOr<std::string> back = NotificationFromHref(href);
    UPDRAFT_FUZZ_CHECK(back.ok() && *back == bytes);
  }
  // The input as an href: must not crash; any result is a byte string.
  (void)NotificationFromHref(bytes);
}

}  // namespace
}  // namespace updraft

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const updraft::Fixture& f = updraft::Get();
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  updraft::CheckParsed(f, bytes);
  updraft::CheckVerifier(f, bytes);
  updraft::CheckHref(bytes);
  return 0;
}
