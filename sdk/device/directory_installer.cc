#include "sdk/device/directory_installer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_util.h"
#include "sdk/device/file_util.h"
#include "sdk/device/result_code.h"
#include "sdk/device/tar_extract.h"

namespace updraft::device {
namespace {

constexpr char kStagingPrefix[] = ".staging-";
constexpr char kOldPrefix[] = ".old-";
constexpr char kRemovingPrefix[] = ".removing-";
constexpr char kMetaDir[] = ".updraft";

absl::Status InstallError(absl::Status s) {
  if (ResultCodeOf(s, v1::RESULT_CODE_UNSPECIFIED) != v1::RESULT_CODE_UNSPECIFIED) return s;
  return WithResultCode(
      s, absl::IsResourceExhausted(s) ? v1::INSTALL_OUT_OF_MEMORY : v1::INSTALL_FAILED);
}

absl::Status SyncTree(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot open ", dir));
  int rc = syncfs(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return ErrnoStatus(err, absl::StrCat("cannot sync ", dir));
  return absl::OkStatus();
}

absl::Status ValidateDcId(const std::string& dc_id) {
  bool ok = !dc_id.empty() && dc_id.size() <= 64 && dc_id[0] != '.';
  for (char c : dc_id) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DC ID \"", dc_id, "\" must be 1 to 64 of [A-Za-z0-9._-], not starting with '.'"));
  }
  return absl::OkStatus();
}

// `.updraft/dc/<dc_id>.files`: the DC's files, NUL-separated.
absl::Status WriteComponentFiles(const std::string& meta_dir, const v1::DcInfo& dcinfo) {
  for (const v1::DcEntry& e : dcinfo.entries()) {
    if (e.files().empty()) continue;
    absl::Status valid = ValidateDcId(e.dc_id());
    if (!valid.ok()) return WithResultCode(valid, v1::PACKAGE_VALIDATION_FAILED);
    UPDRAFT_RETURN_IF_ERROR(MakeDirectories(absl::StrCat(meta_dir, "/dc")));
    std::string list;
    for (const std::string& f : e.files()) absl::StrAppend(&list, f, std::string(1, '\0'));
    UPDRAFT_RETURN_IF_ERROR(
        WriteFileAtomically(absl::StrCat(meta_dir, "/dc/", e.dc_id(), ".files"), list));
  }
  return absl::OkStatus();
}

// A DC file path inside the package: relative, no "." or ".." components.
bool SafeRelativePath(absl::string_view path) {
  if (path.empty() || path[0] == '/') return false;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

}  // namespace

absl::Status ValidatePackageName(const std::string& name) {
  if (name.empty() || name.size() > 128) {
    return absl::InvalidArgumentError(
        absl::StrCat("package name \"", name, "\" must have 1 to 128 characters"));
  }
  if (name[0] == '.') {
    return absl::InvalidArgumentError(
        absl::StrCat("package name \"", name, "\" must not start with '.'"));
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '+';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("package name \"", name, "\" may only contain letters, digits and . _ + -"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RenderSettings(const std::map<std::string, std::string>& settings) {
  std::string out;
  for (const auto& [key, value] : settings) {
    if (key.empty() || key.find_first_of(std::string("=\n\r\0", 4)) != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("setting key \"", key, "\" must be non-empty without '=' or line breaks"));
    }
    if (value.find_first_of(std::string("\n\r\0", 3)) != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("value of setting \"", key, "\" must not contain line breaks"));
    }
    absl::StrAppend(&out, key, "=", value, "\n");
  }
  return out;
}

absl::StatusOr<std::unique_ptr<DirectoryInstaller>> DirectoryInstaller::Create(Options options) {
  if (options.root.empty()) return absl::InvalidArgumentError("installer root must not be empty");
  UPDRAFT_RETURN_IF_ERROR(MakeDirectories(options.root));
  std::unique_ptr<DirectoryInstaller> installer(new DirectoryInstaller(std::move(options)));
  std::vector<std::string> interrupted;
  DIR* dir = opendir(installer->options_.root.c_str());
  if (dir == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("cannot list ", installer->options_.root));
  }
  while (struct dirent* d = readdir(dir)) {
    std::string name = d->d_name;
    if (absl::StartsWith(name, kOldPrefix)) {
      interrupted.push_back(name.substr(sizeof(kOldPrefix) - 1));
    } else if (absl::StartsWith(name, kStagingPrefix)) {
      interrupted.push_back(name.substr(sizeof(kStagingPrefix) - 1));
    } else if (absl::StartsWith(name, kRemovingPrefix)) {
      interrupted.push_back(name.substr(sizeof(kRemovingPrefix) - 1));
    }
  }
  closedir(dir);
  for (const std::string& package : interrupted) {
    if (ValidatePackageName(package).ok()) UPDRAFT_RETURN_IF_ERROR(installer->Repair(package));
  }
  return installer;
}

std::string DirectoryInstaller::PackageDir(const std::string& package_name) const {
  return absl::StrCat(options_.root, "/", package_name);
}

absl::Status DirectoryInstaller::Repair(const std::string& package_name) {
  const std::string target = PackageDir(package_name);
  const std::string old = absl::StrCat(options_.root, "/", kOldPrefix, package_name);
  UPDRAFT_RETURN_IF_ERROR(
      RemoveTree(absl::StrCat(options_.root, "/", kStagingPrefix, package_name)));
  UPDRAFT_RETURN_IF_ERROR(
      RemoveTree(absl::StrCat(options_.root, "/", kRemovingPrefix, package_name)));
  if (!PathExists(old)) return absl::OkStatus();
  if (!PathExists(target)) {
    // Interrupted between the two renames: the old version goes back.
    if (rename(old.c_str(), target.c_str()) != 0) {
      return ErrnoStatus(errno, absl::StrCat("cannot restore ", old, " to ", target));
    }
    return FsyncDirectory(options_.root);
  }
  // Interrupted after the swap: the old version is garbage.
  return RemoveTree(old);
}

absl::Status DirectoryInstaller::Swap(const std::string& package_name, const std::string& staging,
                                      bool* existed) {
  const std::string target = PackageDir(package_name);
  const std::string old = absl::StrCat(options_.root, "/", kOldPrefix, package_name);
  *existed = PathExists(target);
  if (*existed && rename(target.c_str(), old.c_str()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot move ", target, " aside"));
  }
  absl::Status s;
  if (rename(staging.c_str(), target.c_str()) != 0) {
    s = ErrnoStatus(errno, absl::StrCat("cannot move ", staging, " to ", target));
  } else {
    s = FsyncDirectory(options_.root);
    if (s.ok()) {
      RemoveTree(old).IgnoreError();  // Repair() finishes the job if this fails.
      return absl::OkStatus();
    }
    rename(target.c_str(), staging.c_str());
  }
  if (*existed) rename(old.c_str(), target.c_str());
  return s;
}

absl::StatusOr<InstallResult> DirectoryInstaller::Install(const std::string& package_name,
                                                          const std::string& artifact_path,
                                                          const v1::Release& release) {
  absl::Status valid = ValidatePackageName(package_name);
  if (!valid.ok()) return WithResultCode(valid, v1::PACKAGE_VALIDATION_FAILED);
  std::map<std::string, std::string> settings(release.settings().begin(), release.settings().end());
  absl::StatusOr<std::string> settings_text = RenderSettings(settings);
  if (!settings_text.ok()) {
    return WithResultCode(settings_text.status(), v1::PACKAGE_VALIDATION_FAILED);
  }
  absl::Status s = Repair(package_name);
  if (!s.ok()) return InstallError(s);

  const std::string staging = absl::StrCat(options_.root, "/", kStagingPrefix, package_name);
  if (mkdir(staging.c_str(), 0755) != 0) {
    return InstallError(ErrnoStatus(errno, absl::StrCat("cannot create ", staging)));
  }
  s = ExtractTarSafely(artifact_path, staging, {kMetaDir}).status();
  if (s.ok()) s = MakeDirectories(absl::StrCat(staging, "/", kMetaDir));
  if (s.ok()) {
    s = WriteFileAtomically(absl::StrCat(staging, "/", kMetaDir, "/settings.conf"), *settings_text);
  }
  if (s.ok()) s = WriteComponentFiles(absl::StrCat(staging, "/", kMetaDir), release.dcinfo());
  if (s.ok()) s = SyncTree(staging);
  bool existed = false;
  if (s.ok()) s = Swap(package_name, staging, &existed);
  if (!s.ok()) {
    RemoveTree(staging).IgnoreError();
    return InstallError(s);
  }
  InstallResult result;
  result.kind = existed ? v1::OVERWRITE : v1::FRESH_INSTALL;
  result.location = PackageDir(package_name);
  result.settings_applied = static_cast<int>(settings.size());
  return result;
}

absl::Status DirectoryInstaller::Remove(const std::string& package_name) {
  UPDRAFT_RETURN_IF_ERROR(ValidatePackageName(package_name));
  absl::Status s = Repair(package_name);
  const std::string target = PackageDir(package_name);
  const std::string old = absl::StrCat(options_.root, "/", kRemovingPrefix, package_name);
  if (s.ok() && !PathExists(target)) {
    return absl::NotFoundError(absl::StrCat("package ", package_name, " is not installed"));
  }
  if (s.ok() && rename(target.c_str(), old.c_str()) != 0) {
    s = ErrnoStatus(errno, absl::StrCat("cannot remove ", target));
  }
  if (s.ok()) s = FsyncDirectory(options_.root);
  if (s.ok()) s = RemoveTree(old);
  return s.ok() ? s : WithResultCode(s, v1::REMOVE_FAILED);
}

}  // namespace updraft::device

namespace updraft::device {

bool DirectoryInstaller::IsActive(const std::string& package_name, const std::string& dc_id) const {
  return !PathExists(absl::StrCat(PackageDir(package_name), "/", kMetaDir, "/inactive/", dc_id));
}

absl::StatusOr<std::string> DirectoryInstaller::ComponentPackageDir(const ComponentRef& c,
                                                                    v1::ResultCode code) {
  absl::Status s = ValidatePackageName(c.package_name);
  if (s.ok()) s = ValidateDcId(c.dc_id);
  if (s.ok()) s = Repair(c.package_name);
  if (s.ok() && !PathExists(PackageDir(c.package_name))) {
    s = absl::NotFoundError(absl::StrCat("package ", c.package_name, " is not installed"));
  }
  if (!s.ok()) return WithResultCode(s, code);
  return PackageDir(c.package_name);
}

absl::Status DirectoryInstaller::Activate(const ComponentRef& c) {
  absl::StatusOr<std::string> dir = ComponentPackageDir(c, v1::ACTIVATE_FAILED);
  if (!dir.ok()) return dir.status();
  const std::string inactive = absl::StrCat(*dir, "/", kMetaDir, "/inactive");
  const std::string marker = absl::StrCat(inactive, "/", c.dc_id);
  absl::Status s;
  if (unlink(marker.c_str()) != 0 && errno != ENOENT) {
    s = ErrnoStatus(errno, absl::StrCat("cannot activate ", c.dc_id));
  } else if (PathExists(inactive)) {
    s = FsyncDirectory(inactive);
  }
  return s.ok() ? s : WithResultCode(s, v1::ACTIVATE_FAILED);
}

absl::Status DirectoryInstaller::Deactivate(const ComponentRef& c) {
  absl::StatusOr<std::string> dir = ComponentPackageDir(c, v1::DEACTIVATE_FAILED);
  if (!dir.ok()) return dir.status();
  const std::string inactive = absl::StrCat(*dir, "/", kMetaDir, "/inactive");
  absl::Status s = MakeDirectories(inactive);
  if (s.ok()) s = WriteFileAtomically(absl::StrCat(inactive, "/", c.dc_id), "deactivated\n");
  return s.ok() ? s : WithResultCode(s, v1::DEACTIVATE_FAILED);
}

absl::Status DirectoryInstaller::RemoveComponent(const ComponentRef& c) {
  absl::StatusOr<std::string> dir = ComponentPackageDir(c, v1::REMOVE_FAILED);
  if (!dir.ok()) return dir.status();
  const std::string list_path = absl::StrCat(*dir, "/", kMetaDir, "/dc/", c.dc_id, ".files");
  absl::Status s;
  if (PathExists(list_path)) {
    absl::StatusOr<std::string> list = ReadFileToString(list_path);
    if (!list.ok()) return WithResultCode(list.status(), v1::REMOVE_FAILED);
    for (absl::string_view f : absl::StrSplit(*list, '\0', absl::SkipEmpty())) {
      if (!SafeRelativePath(f)) continue;  // Never recorded by Install().
      const std::string path = absl::StrCat(*dir, "/", f);
      if (unlink(path.c_str()) != 0 && errno != ENOENT) {
        s = ErrnoStatus(errno, absl::StrCat("cannot remove ", path));
        break;
      }
    }
    if (s.ok() && unlink(list_path.c_str()) != 0 && errno != ENOENT) {
      s = ErrnoStatus(errno, absl::StrCat("cannot remove ", list_path));
    }
  }
  const std::string marker = absl::StrCat(*dir, "/", kMetaDir, "/inactive/", c.dc_id);
  if (s.ok() && unlink(marker.c_str()) != 0 && errno != ENOENT) {
    s = ErrnoStatus(errno, absl::StrCat("cannot remove ", marker));
  }
  if (s.ok()) s = SyncTree(*dir);
  return s.ok() ? s : WithResultCode(s, v1::REMOVE_FAILED);
}

}  // namespace updraft::device
