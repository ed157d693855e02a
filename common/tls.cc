#include "common/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace updraft {
namespace {

constexpr size_t kMaxPemBytes = 1 << 20;

// Reads a PEM file named by option `field`; NOT_FOUND says which and why.
absl::StatusOr<std::string> ReadPemFile(absl::string_view field, const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot read TLS ", field, " '", path, "': ", strerror(errno)));
  }
  std::string data;
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && data.size() <= kMaxPemBytes) {
    data.append(buf, n);
  }
  bool failed = ferror(f) != 0;
  fclose(f);
  if (failed) {
    return absl::NotFoundError(absl::StrCat("cannot read TLS ", field, " '", path, "'"));
  }
  if (data.size() > kMaxPemBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS ", field, " '", path, "' is larger than 1 MiB; not a PEM file"));
  }
  return data;
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

std::unique_ptr<BIO, BioDeleter> MemBio(const std::string& data) {
  return std::unique_ptr<BIO, BioDeleter>(
      BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// Refuses to prompt for a passphrase: encrypted keys are not supported.
int NoPassword(char*, int, int, void*) { return -1; }

// The first certificate of a PEM bundle (the leaf of a chain).
absl::StatusOr<X509Ptr> FirstCertificate(absl::string_view field, const std::string& path,
                                         const std::string& pem) {
  auto bio = MemBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr));
  ERR_clear_error();
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS ", field, " '", path, "' holds no PEM certificate"));
  }
  return cert;
}

// Reads a certificate (chain) and its private key and checks they belong
// together and the certificate has not expired. Returns {key, chain}.
absl::StatusOr<std::pair<std::string, std::string>> ReadKeyPair(absl::string_view cert_field,
                                                                const std::string& cert_path,
                                                                absl::string_view key_field,
                                                                const std::string& key_path) {
  if (cert_path.empty() || key_path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS ", cert_field, " and ", key_field, " must be given together; ",
                     cert_path.empty() ? cert_field : key_field, " is missing"));
  }
  UPDRAFT_ASSIGN_OR_RETURN(std::string chain, ReadPemFile(cert_field, cert_path));
  UPDRAFT_ASSIGN_OR_RETURN(std::string key_pem, ReadPemFile(key_field, key_path));
  UPDRAFT_ASSIGN_OR_RETURN(X509Ptr cert, FirstCertificate(cert_field, cert_path, chain));
  auto bio = MemBio(key_pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS ", key_field, " '", key_path, "' holds no unencrypted PEM private key"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("TLS ", key_field, " '", key_path,
                                                   "' is not the key of ", cert_field, " '",
                                                   cert_path, "'"));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS ", cert_field, " '", cert_path, "' has expired"));
  }
  return std::make_pair(std::move(key_pem), std::move(chain));
}

absl::StatusOr<std::string> ReadCa(const std::string& path) {
  UPDRAFT_ASSIGN_OR_RETURN(std::string pem, ReadPemFile("ca_file", path));
  UPDRAFT_RETURN_IF_ERROR(FirstCertificate("ca_file", path, pem).status());
  return pem;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFrom(
    const TlsOptions& options) {
  if (!options.serves_tls()) {
    if (options.require_client_cert) {
      return absl::InvalidArgumentError(
          "TLS require_client_cert needs cert_file and key_file (a TLS listener)");
    }
    return grpc::InsecureServerCredentials();
  }
  UPDRAFT_ASSIGN_OR_RETURN(
      auto pair, ReadKeyPair("cert_file", options.cert_file, "key_file", options.key_file));
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (options.require_client_cert) {
    if (options.ca_file.empty()) {
      return absl::InvalidArgumentError(
          "TLS require_client_cert needs ca_file, the CA that signs client certificates");
    }
    UPDRAFT_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadCa(options.ca_file));
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  ssl.pem_key_cert_pairs.push_back({std::move(pair.first), std::move(pair.second)});
  return grpc::SslServerCredentials(ssl);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFrom(
    const TlsOptions& options) {
  const bool has_client_cert =
      !options.client_cert_file.empty() || !options.client_key_file.empty();
  if (!options.dials_tls()) {
    if (has_client_cert) {
      return absl::InvalidArgumentError(
          "TLS client_cert_file/client_key_file need ca_file to verify the server");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  UPDRAFT_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadCa(options.ca_file));
  if (has_client_cert) {
    UPDRAFT_ASSIGN_OR_RETURN(auto pair, ReadKeyPair("client_cert_file", options.client_cert_file,
                                                    "client_key_file", options.client_key_file));
    ssl.pem_private_key = std::move(pair.first);
    ssl.pem_cert_chain = std::move(pair.second);
  }
  return grpc::SslCredentials(ssl);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& address,
                                                           const TlsOptions& options) {
  if (address.empty()) return absl::InvalidArgumentError("channel address is empty");
  UPDRAFT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> creds,
                           ChannelCredentialsFrom(options));
  grpc::ChannelArguments args;
  if (options.dials_tls() && !options.server_name_override.empty()) {
    args.SetSslTargetNameOverride(options.server_name_override);
  }
  return grpc::CreateCustomChannel(address, creds, args);
}

}  // namespace updraft
