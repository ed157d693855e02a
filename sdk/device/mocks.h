#ifndef UPDRAFT_SDK_DEVICE_MOCKS_H_
#define UPDRAFT_SDK_DEVICE_MOCKS_H_

#include <string>

#include "gmock/gmock.h"
#include "sdk/device/installer.h"
#include "sdk/device/key_store.h"

namespace updraft::device {

// gMock doubles of the SDK's platform interfaces, for tests.

class MockKeyStore : public KeyStore {
 public:
  MOCK_METHOD(absl::StatusOr<Ed25519KeyPair>, Load, (), (override));
  MOCK_METHOD(absl::StatusOr<Ed25519KeyPair>, Generate, (), (override));
};

class MockInstaller : public Installer {
 public:
  MOCK_METHOD(absl::StatusOr<InstallResult>, Install,
              (const std::string& package_name, const std::string& artifact_path,
               const v1::Release& release),
              (override));
  MOCK_METHOD(absl::Status, Remove, (const std::string& package_name), (override));
};

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_MOCKS_H_
