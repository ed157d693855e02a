#include "common/crypto.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace updraft {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct BnCtxDeleter {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
struct EcGroupDeleter {
  void operator()(EC_GROUP* g) const { EC_GROUP_free(g); }
};
struct EcPointDeleter {
  void operator()(EC_POINT* p) const { EC_POINT_free(p); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// An EVP_PKEY for a P-256 public key, optionally with its private scalar.
// Null when the point is not on the curve or the encoding is wrong.
PkeyPtr P256Pkey(absl::string_view pub, const BIGNUM* priv) {
  if (pub.size() != kP256PublicKeySize || pub[0] != 0x04) return nullptr;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(),
                                       pub.size()) != 1 ||
      (priv != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1)) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1) {
    return nullptr;
  }
  return PkeyPtr(raw);
}
absl::StatusOr<std::string> RawPublicKey(EVP_PKEY* pkey) {
  std::string pub(kEd25519PublicKeySize, '\0');
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(pub.data()), &len) != 1 ||
      len != kEd25519PublicKeySize) {
    return absl::InternalError("cannot read Ed25519 public key");
  }
  return pub;
}

}  // namespace

absl::StatusOr<Ed25519KeyPair> Ed25519KeyPair::Generate() {
  return FromPrivateKey(RandomBytes(kEd25519PrivateKeySize));
}

absl::StatusOr<Ed25519KeyPair> Ed25519KeyPair::FromPrivateKey(absl::string_view raw) {
  if (raw.size() != kEd25519PrivateKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("Ed25519 private key must be 32 bytes, got ", raw.size()));
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
  if (!pkey) return absl::InvalidArgumentError("invalid Ed25519 private key");
  auto pub = RawPublicKey(pkey.get());
  if (!pub.ok()) return pub.status();
  return Ed25519KeyPair(std::string(raw), *std::move(pub),
                        std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free));
}

absl::StatusOr<std::string> Ed25519KeyPair::Sign(absl::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) != 1) {
    return absl::InternalError("Ed25519 sign init failed");
  }
  std::string sig(kEd25519SignatureSize, '\0');
  size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return absl::InternalError("Ed25519 sign failed");
  }
  sig.resize(len);
  return sig;
}

bool Ed25519Verify(absl::string_view raw_public_key, absl::string_view message,
                   absl::string_view signature) {
  if (raw_public_key.size() != kEd25519PublicKeySize || signature.size() != kEd25519SignatureSize) {
    return false;
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw_public_key.data()),
      raw_public_key.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

absl::StatusOr<EcdsaP256KeyPair> EcdsaP256KeyPair::Generate() {
  for (;;) {
    auto key = FromPrivateKey(RandomBytes(kP256PrivateKeySize));
    // Out of range scalars (probability about 2^-32) are drawn again.
    if (key.ok() || key.status().code() != absl::StatusCode::kInvalidArgument) return key;
  }
}

absl::StatusOr<EcdsaP256KeyPair> EcdsaP256KeyPair::FromPrivateKey(absl::string_view raw) {
  if (raw.size() != kP256PrivateKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("P-256 private key must be 32 bytes, got ", raw.size()));
  }
  std::unique_ptr<EC_GROUP, EcGroupDeleter> group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  std::unique_ptr<BN_CTX, BnCtxDeleter> bn_ctx(BN_CTX_new());
  BnPtr d(BN_bin2bn(Bytes(raw), static_cast<int>(raw.size()), nullptr));
  if (!group || !bn_ctx || !d) return absl::InternalError("P-256 setup failed");
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group.get())) >= 0) {
    return absl::InvalidArgumentError("P-256 private key is out of range");
  }
  std::unique_ptr<EC_POINT, EcPointDeleter> q(EC_POINT_new(group.get()));
  std::string pub(kP256PublicKeySize, '\0');
  if (!q || EC_POINT_mul(group.get(), q.get(), d.get(), nullptr, nullptr, bn_ctx.get()) != 1 ||
      EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED,
                         reinterpret_cast<unsigned char*>(pub.data()), pub.size(),
                         bn_ctx.get()) != kP256PublicKeySize) {
    return absl::InternalError("cannot compute P-256 public key");
  }
  return EcdsaP256KeyPair(std::string(raw), std::move(pub));
}

absl::StatusOr<std::string> EcdsaP256KeyPair::Sign(absl::string_view message) const {
  BnPtr d(BN_bin2bn(Bytes(private_key_), static_cast<int>(private_key_.size()), nullptr));
  PkeyPtr pkey = d ? P256Pkey(public_key_, d.get()) : nullptr;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) != 1) {
    return absl::InternalError("P-256 sign init failed");
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, Bytes(message), message.size()) != 1) {
    return absl::InternalError("P-256 sign failed");
  }
  std::string der(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &len, Bytes(message),
                     message.size()) != 1) {
    return absl::InternalError("P-256 sign failed");
  }
  const unsigned char* p = Bytes(der);
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(d2i_ECDSA_SIG(nullptr, &p, len));
  if (!sig) return absl::InternalError("P-256 signature is not DER");
  std::string out(kP256SignatureSize, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), o, 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), o + 32, 32) != 32) {
    return absl::InternalError("P-256 signature does not fit r || s");
  }
  return out;
}

bool EcdsaP256Verify(absl::string_view raw_public_key, absl::string_view message,
                     absl::string_view signature) {
  if (signature.size() != kP256SignatureSize) return false;
  PkeyPtr pkey = P256Pkey(raw_public_key, nullptr);
  if (!pkey) return false;
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(Bytes(signature), 32, nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(signature) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), der, static_cast<size_t>(der_len), Bytes(message),
                             message.size()) == 1;
  OPENSSL_free(der);
  return ok;
}

absl::string_view KeyTypeName(KeyType type) {
  return type == KeyType::kEcdsaP256 ? "ecdsa-p256" : "ed25519";
}

absl::StatusOr<KeyType> ParseKeyType(absl::string_view name) {
  if (name == "ed25519") return KeyType::kEd25519;
  if (name == "ecdsa-p256") return KeyType::kEcdsaP256;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown key type '", absl::CEscape(name), "'; expected ed25519 or ecdsa-p256"));
}

absl::Status ValidatePublicKey(KeyType type, absl::string_view raw_public_key) {
  if (type == KeyType::kEd25519) {
    if (raw_public_key.size() != kEd25519PublicKeySize) {
      return absl::InvalidArgumentError(
          absl::StrCat("an Ed25519 public key is 32 raw bytes, got ", raw_public_key.size()));
    }
    return absl::OkStatus();
  }
  if (raw_public_key.size() != kP256PublicKeySize || raw_public_key[0] != 0x04) {
    return absl::InvalidArgumentError(
        absl::StrCat("a P-256 public key is the 65-byte uncompressed point (0x04 || X || Y), got ",
                     raw_public_key.size(), " bytes"));
  }
  if (!P256Pkey(raw_public_key, nullptr)) {
    return absl::InvalidArgumentError("the P-256 public key is not a point on the curve");
  }
  return absl::OkStatus();
}

bool VerifySignature(KeyType type, absl::string_view raw_public_key, absl::string_view message,
                     absl::string_view signature) {
  return type == KeyType::kEcdsaP256 ? EcdsaP256Verify(raw_public_key, message, signature)
                                     : Ed25519Verify(raw_public_key, message, signature);
}

struct Sha256Hasher::State {
  MdCtxPtr ctx{EVP_MD_CTX_new()};
};

Sha256Hasher::Sha256Hasher() : state_(std::make_unique<State>()) {
  EVP_DigestInit_ex(state_->ctx.get(), EVP_sha256(), nullptr);
}

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::Update(absl::string_view data) {
  EVP_DigestUpdate(state_->ctx.get(), data.data(), data.size());
}

std::string Sha256Hasher::Finish() {
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len);
  EVP_DigestInit_ex(state_->ctx.get(), EVP_sha256(), nullptr);
  return out;
}

std::string Sha256(absl::string_view data) {
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
             EVP_sha256(), nullptr);
  return out;
}

std::string Sha256Hex(absl::string_view data) { return absl::BytesToHexString(Sha256(data)); }

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    abort();  // No entropy: nothing secure can be done.
  }
  return out;
}

bool IsSha256Hex(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open key file ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(absl::StripAsciiWhitespace(ss.str()), &raw)) {
    return absl::InvalidArgumentError(absl::StrCat("key file ", path, " is not base64url"));
  }
  return raw;
}

absl::Status WriteKeyFile(const std::string& path, absl::string_view raw_key) {
  std::string text = absl::StrCat(absl::WebSafeBase64Escape(raw_key), "\n");
  std::string tmp = absl::StrCat(path, ".tmp");
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", strerror(errno)));
  bool ok =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot write key file ", path));
  }
  // The rename itself survives a power loss only once the directory is synced.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace updraft
