#ifndef UPDRAFT_TOOLS_FLEET_SIM_SIM_DEVICE_H_
#define UPDRAFT_TOOLS_FLEET_SIM_SIM_DEVICE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "sdk/device/client.h"
#include "sdk/device/directory_installer.h"
#include "sdk/device/file_key_store.h"

namespace updraft::fleet_sim {

// One simulated handset: the real device SDK (device::Client) with a
// FileKeyStore key, a DirectoryInstaller standing for its installed apps and
// its SCOMO state directory. Used by device_sim (one device, files where the
// flags say) and by the fleet simulator (thousands, each under
// <base_dir>/<device_id>/). Not thread-safe, like the Client.
class SimDevice {
 public:
  struct Options {
    std::string device_id;
    std::string key_file;
    std::string state_dir;
    std::string install_dir;
    // The services: ready channels (a fleet shares them) or addresses.
    std::shared_ptr<grpc::Channel> auth_channel;
    std::shared_ptr<grpc::Channel> catalog_channel;
    std::string auth_address;
    std::string catalog_address;
    // Shared download channels by target; default: dial with `security`.
    std::function<std::shared_ptr<grpc::Channel>(const std::string&)> download_channel_factory;
    std::string download_target_override;
    device::ChannelSecurity security;
    v1::DeviceAttributes attributes;
    // Raw publisher public keys whose signed release metadata the device
    // requires (Client::Options::trusted_publisher_keys); empty: unsigned.
    std::vector<std::string> trusted_publisher_keys;
    std::function<bool(const v1::Offer&)> consent;
    std::function<void(const device::ProgressEvent&)> on_progress;
    std::function<void(const device::UpdateOutcome&)> on_result;
  };

  // The paths of a fleet device under `base_dir`.
  static Options FleetLayout(const std::string& base_dir, const std::string& device_id);

  // Loads (or generates) the key, prepares the installer and the client.
  static absl::StatusOr<std::unique_ptr<SimDevice>> Create(Options options);

  const std::string& device_id() const { return device_id_; }
  device::Client& client() { return *client_; }
  // base64url of the raw Ed25519 public key (as auth's CSV import takes it).
  std::string PublicKeyBase64() const;

 private:
  SimDevice() = default;

  std::string device_id_;
  std::unique_ptr<device::FileKeyStore> keys_;
  std::unique_ptr<device::DirectoryInstaller> installer_;
  std::unique_ptr<device::Client> client_;
};

}  // namespace updraft::fleet_sim

#endif  // UPDRAFT_TOOLS_FLEET_SIM_SIM_DEVICE_H_
