#include "tools/fleet_sim/sim_device.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace updraft::fleet_sim {

SimDevice::Options SimDevice::FleetLayout(const std::string& base_dir,
                                          const std::string& device_id) {
  Options o;
  o.device_id = device_id;
  const std::string dir = absl::StrCat(base_dir, "/", device_id);
  o.key_file = dir + "/key";
  o.state_dir = dir + "/state";
  o.install_dir = dir + "/apps";
  return o;
}

absl::StatusOr<std::unique_ptr<SimDevice>> SimDevice::Create(Options options) {
  if (options.key_file.empty()) return absl::InvalidArgumentError("the key file is required");
  if (options.install_dir.empty()) {
    return absl::InvalidArgumentError("the install directory is required");
  }
  std::unique_ptr<SimDevice> d(new SimDevice());
  d->device_id_ = options.device_id;
  d->keys_ = std::make_unique<device::FileKeyStore>(options.key_file);
  auto installer = device::DirectoryInstaller::Create({.root = options.install_dir});
  if (!installer.ok()) return installer.status();
  d->installer_ = *std::move(installer);

  device::Client::Options o;
  o.device_id = options.device_id;
  o.auth_channel = std::move(options.auth_channel);
  o.catalog_channel = std::move(options.catalog_channel);
  o.auth_address = options.auth_address;
  o.catalog_address = options.catalog_address;
  o.download_channel_factory = std::move(options.download_channel_factory);
  o.download_target_override = options.download_target_override;
  o.security = std::move(options.security);
  o.key_store = d->keys_.get();
  o.installer = d->installer_.get();
  o.state_dir = options.state_dir;
  o.attributes = std::move(options.attributes);
  o.trusted_publisher_keys = std::move(options.trusted_publisher_keys);
  o.consent = std::move(options.consent);
  o.on_progress = std::move(options.on_progress);
  o.on_result = std::move(options.on_result);
  auto client = device::Client::Create(std::move(o));
  if (!client.ok()) return client.status();
  d->client_ = *std::move(client);
  return d;
}

std::string SimDevice::PublicKeyBase64() const {
  return absl::WebSafeBase64Escape(client_->public_key());
}

}  // namespace updraft::fleet_sim
