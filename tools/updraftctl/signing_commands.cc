#include "tools/updraftctl/signing_commands.h"

#include <sys/stat.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto.h"
#include "common/release_metadata.h"
#include "common/status_util.h"

namespace updraft::ctl {
namespace {

constexpr absl::Duration kDefaultLifetime = absl::Hours(24 * 30);

// Fills request->signed_metadata for the release it names.
absl::Status SignPublication(const Args& args, Stubs& stubs, v1::PublishReleaseRequest* request) {
  absl::Duration lifetime = kDefaultLifetime;
  if (!args.Get("expires_in").empty() && (!absl::ParseDuration(args.Get("expires_in"), &lifetime) ||
                                          lifetime <= absl::ZeroDuration())) {
    return absl::InvalidArgumentError(
        absl::StrCat("--expires_in: \"", args.Get("expires_in"), "\" is not a positive duration"));
  }
  UPDRAFT_ASSIGN_OR_RETURN(std::string raw, ReadKeyFile(args.Get("signing_key_file")));
  UPDRAFT_ASSIGN_OR_RETURN(Ed25519KeyPair key, Ed25519KeyPair::FromPrivateKey(raw));
  v1::GetReleaseRequest get;
  get.set_release_id(request->release_id());
  v1::Release release;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.catalog->GetRelease(Context(stubs).get(), get, &release)));
  const absl::Time now = absl::Now();
  UPDRAFT_ASSIGN_OR_RETURN(v1::ReleaseMetadata metadata,
                           ReleaseMetadataFor(release, now, now + lifetime));
  UPDRAFT_ASSIGN_OR_RETURN(*request->mutable_signed_metadata(), SignReleaseMetadata(metadata, key));
  return absl::OkStatus();
}

}  // namespace

absl::Status GenPublisherKey(const Args& args, Stubs&, FILE* out) {
  const std::string path = args.Get("out");
  if (path.empty()) return absl::InvalidArgumentError("--out=PATH is required");
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat(path, " exists; refusing to overwrite a publisher key"));
  }
  UPDRAFT_ASSIGN_OR_RETURN(Ed25519KeyPair key, Ed25519KeyPair::Generate());
  UPDRAFT_RETURN_IF_ERROR(WriteKeyFile(path, key.private_key()));
  fprintf(out, "%s\n", absl::WebSafeBase64Escape(key.public_key()).c_str());
  return absl::OkStatus();
}

absl::Status Publish(const Args& args, Stubs& stubs, FILE* out) {
  if (args.Get("release_id").empty()) return absl::InvalidArgumentError("--release_id is required");
  v1::PublishReleaseRequest req;
  req.set_release_id(args.Get("release_id"));
  if (!args.Get("signing_key_file").empty()) {
    UPDRAFT_RETURN_IF_ERROR(SignPublication(args, stubs, &req));
  }
  v1::Release rel;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.catalog->PublishRelease(Context(stubs).get(), req, &rel)));
  const std::string signer =
      rel.has_signed_metadata()
          ? absl::StrCat("signed by publisher key ", rel.signed_metadata().key_id())
          : "unsigned";
  fprintf(out, "release %s (%s %s) published, %s\n", rel.release_id().c_str(),
          rel.package_name().c_str(), rel.version().c_str(), signer.c_str());
  return absl::OkStatus();
}

}  // namespace updraft::ctl
