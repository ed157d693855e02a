#ifndef UPDRAFT_TOOLS_UPDRAFTCTL_SIGNING_COMMANDS_H_
#define UPDRAFT_TOOLS_UPDRAFTCTL_SIGNING_COMMANDS_H_

#include <cstdio>

#include "absl/status/status.h"
#include "tools/updraftctl/commands.h"
#include "updraft/v1/catalog.pb.h"

namespace updraft::ctl {

// The publisher's side of signed release metadata (common/release_metadata.h):
// the private key stays with the publisher (a file here, an HSM in a
// carrier's pipeline); the catalog and the devices hold only public keys.

// gen-publisher-key --out=PATH: writes a new Ed25519 private key to PATH
// (mode 0600, refusing to overwrite) and prints the public key, the line to
// add to the catalog's --publisher_keys_file and to provision on devices.
// Needs no server.
absl::Status GenPublisherKey(const Args& args, Stubs& stubs, FILE* out);

// publish --release_id=ID [--signing_key_file=PATH [--expires_in=DURATION]]:
// with a key, reads the release from the catalog, builds its ReleaseMetadata
// valid for --expires_in (default 720h) and signs it; publishing an already
// published release with a new signature extends its expiry.
absl::Status Publish(const Args& args, Stubs& stubs, FILE* out);

}  // namespace updraft::ctl

#endif  // UPDRAFT_TOOLS_UPDRAFTCTL_SIGNING_COMMANDS_H_
