#ifndef UPDRAFT_COMMON_NOTIFICATION_FORMAT_H_
#define UPDRAFT_COMMON_NOTIFICATION_FORMAT_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/crypto.h"

namespace updraft {

// The signed notification that every channel carries (IP Push, binary SMS,
// WAP Push SI href): compact, versioned, binary, big-endian.
//
//   offset size  field
//   0      1     version (1)
//   1      4     key ID: first 4 bytes of SHA-256(signing public key)
//   5      8     notification ID (random)
//   13     4     timestamp, unix seconds
//   17     4     expiry, unix seconds
//   21     1+n   server address (length byte, then n bytes)
//   ..     1+n   software name
//   ..     1+n   software location (catalog release ID)
//   ..     64    Ed25519 signature over kNotificationSigningContext || all
//                bytes before the signature
//
// Size: 88 bytes plus the three strings. With a 7-byte port-addressing UDH a
// single binary SMS carries 133 bytes, so the strings may total 45 bytes;
// longer ones are sent as a concatenated SMS (see docs/architecture.md).
inline constexpr uint8_t kNotificationVersion = 1;
inline constexpr size_t kNotificationIdSize = 8;
inline constexpr size_t kNotificationKeyIdSize = 4;
inline constexpr size_t kNotificationFixedSize = 1 + 4 + 8 + 4 + 4 + 3 + kEd25519SignatureSize;
inline constexpr size_t kNotificationMaxFieldSize = 255;
inline constexpr absl::string_view kNotificationSigningContext{"updraft-notification-v1\0", 24};

// The fields of a notification, before signing or after parsing.
struct NotificationFields {
  std::string id;  // kNotificationIdSize raw bytes
  std::string server_address;
  std::string software_name;
  std::string location;
  int64_t timestamp_unix = 0;
  int64_t expires_at_unix = 0;
};

// A parsed notification: its fields plus what verification needs.
struct ParsedNotification {
  NotificationFields fields;
  std::string key_id;
  std::string signed_part;  // the bytes the signature covers (without context)
  std::string signature;
};

// The key ID a notification names for `public_key`.
std::string NotificationKeyId(absl::string_view ed25519_public_key);
// Lower-case hex of a raw notification ID, as in v1::Notification.
std::string NotificationIdHex(absl::string_view raw_id);

// Encodes and signs. INVALID_ARGUMENT naming the field when an ID is not 8
// bytes, a string is empty or longer than 255 bytes, or a time does not fit
// 32 unsigned bits or the expiry is not after the timestamp.
absl::StatusOr<std::string> EncodeNotification(const NotificationFields& fields,
                                               const Ed25519KeyPair& key);

// Parses the structure only (no signature or time checks). Never reads out
// of bounds; INVALID_ARGUMENT saying what is wrong for any malformed input.
absl::StatusOr<ParsedNotification> ParseNotification(absl::string_view bytes);

// base64url (no padding), for the WAP Push SI href and for logs.
std::string NotificationToBase64(absl::string_view bytes);
// Takes the notification from an href whose last path segment (or fragment)
// is the base64url notification, e.g. https://host/n/<base64url>.
absl::StatusOr<std::string> NotificationFromHref(absl::string_view href);

// The device side: accepts a notification only when it is signed by a
// trusted key, is not stale (expired, or timestamped too far in the future),
// and has not been seen before (replay or duplicate delivery over another
// channel). Seen IDs are kept until their expiry (bounded by `max_seen`,
// oldest forgotten first). Thread-safe.
class NotificationVerifier {
 public:
  struct Options {
    // Ed25519 public keys the device trusts (provisioned, or fetched from the
    // notifier's GetNotificationKeys while online).
    std::vector<std::string> trusted_keys;
    const Clock* clock = nullptr;
    absl::Duration max_clock_skew = absl::Minutes(5);
    size_t max_seen = 4096;
  };
  explicit NotificationVerifier(Options options);

  void AddTrustedKey(absl::string_view public_key);
  // OK and the fields for a fresh, authentic, unseen notification, which is
  // then remembered; UNAUTHENTICATED for an unknown key or bad signature,
  // FAILED_PRECONDITION for stale, ALREADY_EXISTS for a replay,
  // INVALID_ARGUMENT for malformed bytes.
  absl::StatusOr<NotificationFields> Accept(absl::string_view bytes);

  // The IDs remembered against replays, with their expiry (unix seconds),
  // oldest first; and a way to restore them, so a device keeps refusing
  // replays across restarts. Expired entries are not restored.
  std::vector<std::pair<int64_t, std::string>> SeenIds();
  void RestoreSeen(const std::vector<std::pair<int64_t, std::string>>& seen);

 private:
  const Options options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> keys_ ABSL_GUARDED_BY(mu_);  // key ID -> key
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<int64_t, std::string>> seen_order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_NOTIFICATION_FORMAT_H_
