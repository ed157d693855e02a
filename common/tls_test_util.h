#ifndef UPDRAFT_COMMON_TLS_TEST_UTIL_H_
#define UPDRAFT_COMMON_TLS_TEST_UTIL_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/tls.h"

namespace updraft {

// Test certificates made by scripts/dev-ca.sh (a `data` dependency of the
// tls_test_util target) in a directory under TEST_TMPDIR. Names are the
// script's: "auth", "catalog", "download", "notifier" (server and client
// usage), "operator", "device" (client usage).
class TestCertificates {
 public:
  // Runs dev-ca.sh into TEST_TMPDIR/<subdir>; different subdirs give
  // different, unrelated CAs.
  static absl::StatusOr<TestCertificates> Create(const std::string& subdir = "dev-ca");

  const std::string& dir() const { return dir_; }
  std::string Path(const std::string& file) const { return dir_ + "/" + file; }
  // Listener options for `service`, requiring client certificates if asked.
  TlsOptions Server(const std::string& service, bool require_client_cert = false) const;
  // Dialling options trusting this CA, presenting `client` ("" for none).
  TlsOptions Client(const std::string& client = "") const;
  // Server(service) and Client(service) together: what a service's Options
  // get for full mutual TLS.
  TlsOptions Service(const std::string& service) const;

 private:
  explicit TestCertificates(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_TLS_TEST_UTIL_H_
