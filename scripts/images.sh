#!/usr/bin/env bash
# scripts/images.sh [--skip-build] [NAME...]: builds the container images with
# podman, tagged localhost/updraft-NAME:dev. NAME is auth, catalog, download,
# notifier, tools, dev-postgres or dev-redis (default: all).
#
# Each image is FROM scratch: scripts/images.sh stages a root filesystem with
# the Bazel (-c opt) binaries, the shared libraries `ldd` lists for them, the
# dynamic loader and an /etc/passwd whose only unprivileged user is 65532;
# deploy/images/Containerfile.NAME copies it in. Idempotent: podman's layer
# cache makes an unchanged image a no-op. The dev-* images package this
# machine's Debian PostgreSQL and Redis for the development overlay.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib.sh

BUILD=1
[ "${1:-}" = "--skip-build" ] && { BUILD=0; shift; }
ALL=(auth catalog download notifier tools dev-postgres dev-redis)
NAMES=("$@")
[ "${#NAMES[@]}" -gt 0 ] || NAMES=("${ALL[@]}")
for n in "${NAMES[@]}"; do
  [[ " ${ALL[*]} " == *" $n "* ]] || die "unknown image $n (one of: ${ALL[*]})"
done

ensure_packages
ensure_deploy_packages
if [ "$BUILD" -eq 1 ]; then
  log "building the binaries (bazel -c opt)"
  bz build -c opt //services/auth //services/catalog //services/download //services/notifier \
    //tools/device_sim //tools/updraftctl //tools/health_probe
fi
BIN="$(bazel info -c opt bazel-bin 2>/dev/null)"
[ -x "$BIN/tools/health_probe/health_probe" ] || die "no -c opt build in $BIN (run without --skip-build)"

STAGE="$RUN_DIR/images"
PG_VERSION_DIR="$(ls -d /usr/lib/postgresql/* | sort -V | tail -n 1)"

# copy_file SRC [DEST]: copies SRC (following symlinks) into the rootfs at DEST
# (default: the same path).
copy_file() {
  local src="$1" dest="$ROOTFS${2:-$1}"
  mkdir -p "$(dirname "$dest")"
  cp -L --preserve=mode "$src" "$dest"
}

# copy_libs FILE...: the shared libraries and loader FILE needs, at their paths.
copy_libs() {
  local f lib
  for f in "$@"; do
    ldd "$f" >/dev/null 2>&1 || continue  # not dynamic (scripts, data)
    for lib in $(ldd "$f" | grep -o '/[^ ]*'); do
      [ -e "$ROOTFS$lib" ] || copy_file "$lib"
    done
  done
}

write_etc() {
  mkdir -p "$ROOTFS/etc" "$ROOTFS/tmp"
  chmod 1777 "$ROOTFS/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nupdraft:x:65532:65532:updraft:/nonexistent:/sbin/nologin\n' \
    >"$ROOTFS/etc/passwd"
  printf 'root:x:0:\nupdraft:x:65532:\n' >"$ROOTFS/etc/group"
  printf 'hosts: files dns\n' >"$ROOTFS/etc/nsswitch.conf"
}

stage() {
  local name="$1"
  ROOTFS="$STAGE/$name/rootfs"
  rm -rf "${STAGE:?}/$name"
  mkdir -p "$ROOTFS"
  write_etc
  case "$name" in
    auth|catalog|download|notifier)
      copy_file "$BIN/services/$name/$name" "/usr/local/bin/$name"
      copy_file "$BIN/tools/health_probe/health_probe" /usr/local/bin/health_probe
      ;;
    tools)
      for t in updraftctl device_sim health_probe; do
        copy_file "$BIN/tools/$t/$t" "/usr/local/bin/$t"
      done
      ;;
    dev-postgres)
      for b in postgres initdb pg_isready; do copy_file "$PG_VERSION_DIR/bin/$b"; done
      local share="usr/share/postgresql/$(basename "$PG_VERSION_DIR")"
      tar -C / --exclude="$share/man" --exclude="*/bitcode" --exclude="llvmjit*" -cf - "${PG_VERSION_DIR#/}/lib" "$share" usr/share/zoneinfo \
        | tar -C "$ROOTFS" -xf -
      copy_file /bin/dash /bin/sh
      copy_file deploy/images/dev-postgres-entrypoint.sh /usr/local/bin/dev-postgres
      chmod 0755 "$ROOTFS/usr/local/bin/dev-postgres"
      # No /var/lib/postgresql/data in the image: podman would give a new
      # volume mounted there the image directory's owner (root).
      ;;
    dev-redis)
      copy_file /usr/bin/redis-server
      copy_file /usr/bin/redis-cli
      ;;
  esac
  copy_libs $(find "$ROOTFS" -type f \( -perm -u+x -o -name '*.so*' \))
  cp "deploy/images/Containerfile.$name" "$STAGE/$name/Containerfile"
}

for n in "${NAMES[@]}"; do
  log "image localhost/updraft-$n:dev"
  stage "$n"
  podman_cmd build --quiet --format docker --layers -t "localhost/updraft-$n:dev" "$STAGE/$n" >/dev/null
done
podman_cmd images --filter reference='localhost/updraft-*' \
  --format '{{.Repository}}:{{.Tag}} {{.Size}}' | sort
