#include "common/tls_test_util.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace updraft {
namespace {

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v == nullptr ? "" : v;
}

}  // namespace

absl::StatusOr<TestCertificates> TestCertificates::Create(const std::string& subdir) {
  std::string srcdir = Env("TEST_SRCDIR");
  std::string tmp = Env("TEST_TMPDIR");
  if (srcdir.empty() || tmp.empty()) {
    return absl::FailedPreconditionError("TEST_SRCDIR/TEST_TMPDIR unset: run under bazel test");
  }
  std::string workspace = Env("TEST_WORKSPACE");
  if (workspace.empty()) workspace = "updraft";
  std::string script = absl::StrCat(srcdir, "/", workspace, "/scripts/dev-ca.sh");
  std::string dir = absl::StrCat(tmp, "/", subdir);
  std::string cmd = absl::StrCat("'", script, "' '", dir, "' >/dev/null");
  int rc = std::system(cmd.c_str());
  if (rc != 0) return absl::InternalError(absl::StrCat(cmd, " failed with status ", rc));
  return TestCertificates(dir);
}

TlsOptions TestCertificates::Server(const std::string& service, bool require_client_cert) const {
  TlsOptions tls;
  tls.cert_file = Path(service + ".pem");
  tls.key_file = Path(service + ".key");
  tls.ca_file = Path("ca.pem");
  tls.require_client_cert = require_client_cert;
  return tls;
}

TlsOptions TestCertificates::Client(const std::string& client) const {
  TlsOptions tls;
  tls.ca_file = Path("ca.pem");
  if (!client.empty()) {
    tls.client_cert_file = Path(client + ".pem");
    tls.client_key_file = Path(client + ".key");
  }
  return tls;
}

TlsOptions TestCertificates::Service(const std::string& service) const {
  TlsOptions tls = Server(service, /*require_client_cert=*/true);
  tls.client_cert_file = Path(service + ".pem");
  tls.client_key_file = Path(service + ".key");
  return tls;
}

}  // namespace updraft
