#ifndef UPDRAFT_FUZZ_SEEDS_H_
#define UPDRAFT_FUZZ_SEEDS_H_

// Fixed keys and messages shared by the harnesses and corpus_tool, so that
// the seeds the tool writes are the genuine ones the harnesses trust.
#include <string>

#include "absl/strings/escaping.h"
#include "common/crypto.h"
#include "common/release_metadata.h"
#include "updraft/v1/common.pb.h"

namespace updraft::fuzz {

// common/testdata/notification_vectors.txt: signing seed 00..1f; the vectors
// "valid" and "long_fields" verify at kNotificationVerifyAt.
inline constexpr int64_t kNotificationVerifyAt = 1767225660;
inline constexpr char kValidNotificationHex[] =
    "0156475aa70123456789abcdef6955b90069570a8017757064726166742e6578616d706c652e636f6d3a3434"
    "330864656d6f2d6170700a72656c5f3566326339617fe68fbec433cc8771d1e6943b38ad939002048f2a61"
    "d90b5c199b0356d6053072b9d5e513ac8c87628e76866adf4d51f45730c61cfb84ce9b6db3592188e70c";
inline constexpr char kLongFieldsNotificationHex[] =
    "0156475aa7fedcba98765432106955b9006955c710266e6f746966792e757064726166742e636172726965"
    "722d6578616d706c652e6e65743a3434331b636f6d2e6578616d706c652e6e617669676174696f6e2d6d61"
    "70731072656c5f386331643265336634613562eb90ae005029018bc7df2c0f75092fa2b011ad961cc9d001"
    "c7ac919dcb97f437faa739be325cbbf7a14a9598937675285686b509a4955c747fb2de79e3d76c0f";

inline std::string NotificationSeed() {
  std::string seed;
  for (int i = 0; i < 32; ++i) seed.push_back(static_cast<char>(i));
  return seed;
}

// Access tokens: auth's signing key and the verifier's clock.
inline std::string TokenSeed() { return std::string(32, '\x42'); }
inline constexpr int64_t kTokenNow = 1800000000;

// Release metadata: the publisher key and the one statement it signed.
inline std::string PublisherSeed() { return std::string(32, '\x17'); }

inline v1::ReleaseMetadata GenuineReleaseMetadata() {
  v1::ReleaseMetadata m;
  m.set_release_id("rel_5f2c9a");
  m.set_package_id("pkg_demo");
  m.set_package_name("demo-app");
  m.set_version("1.2.0");
  m.set_artifact_sha256(Sha256Hex("artifact"));
  m.set_artifact_size(8);
  m.set_chunk_size(4096);
  m.add_chunk_sha256(Sha256("artifact"));
  m.set_issued_at_unix(1767225600);
  m.set_expires_at_unix(1767225600 + 86400 * 30);
  return m;
}

}  // namespace updraft::fuzz

#endif  // UPDRAFT_FUZZ_SEEDS_H_
