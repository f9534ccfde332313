#!/usr/bin/env bash
# Prepares this machine to build and run the service's image without a Docker engine or an
# image registry (test/deploy/image.test.ts and test/deploy/compose-run.test.ts):
# - Debian's podman, runc, debootstrap and podman-compose, when missing;
# - /etc/containers/containers.conf: cgroupfs and no default ulimits (what works in CI containers);
# - the base image the Dockerfile's FROM names, docker.io/library/node:20-bookworm-slim, made here:
#   a minimal Debian rootfs (debootstrap --variant=minbase bookworm) with this machine's node and
#   npm, a node user (uid 1000, as in the official image) and the CA bundle npm trusts here, with
#   NODE_EXTRA_CA_CERTS pointing at it (the registry's TLS during `npm ci` in the build);
# - stand-ins for docker-compose.yml's postgres:15-alpine and redis:7-alpine, from Debian's
#   postgresql-15 and redis-server on the same rootfs (postgres.Containerfile, redis.Containerfile);
# - podman-compose 1.3 from Debian trixie's package, unpacked into the cache (see below).
# An image that exists already is kept (`podman image exists`): the second run costs seconds.
# DEMO_SEED_IMAGES_REBUILD=1 rebuilds them all. Exits non-zero, saying why, when something fails.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
log() { printf '[prepare-images] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ROOTFS_IMAGE=localhost/demo-seed-ci/debian:bookworm-minbase
NODE_IMAGE=docker.io/library/node:20-bookworm-slim
POSTGRES_IMAGE=docker.io/library/postgres:15-alpine
REDIS_IMAGE=docker.io/library/redis:7-alpine
CACHE="${DEMO_SEED_IMAGES_CACHE:-/var/cache/demo-seed-images}"

# ---- packages ----
need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v podman-compose >/dev/null || need+=(podman-compose)
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || { log "no apt-get: install ${need[*]} yourself"; exit 1; }
  log "installing ${need[*]} from Debian packages"
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi
log "$(podman --version), $(runc --version | head -1)"

# ---- containers.conf ----
conf=/etc/containers/containers.conf
if ! grep -qs '^cgroup_manager *= *"cgroupfs"' "$conf" || ! grep -qs '^default_ulimits *= *\[\]' "$conf"; then
  if [ -s "$conf" ] && ! grep -qs 'written by demo-seed' "$conf"; then
    log "$conf exists without cgroup_manager = \"cgroupfs\" and default_ulimits = []: left as it is"
  else
    log "writing $conf"
    as_root mkdir -p /etc/containers
    printf '%s\n' '# written by demo-seed test/deploy/images/prepare-images.sh' \
      '[containers]' 'default_ulimits = []' '' '[engine]' 'cgroup_manager = "cgroupfs"' | as_root tee "$conf" >/dev/null
  fi
fi

rebuild="${DEMO_SEED_IMAGES_REBUILD:-}"
exists() { [ -z "$rebuild" ] && as_root podman image exists "$1"; }
build() { # build IMAGE CONTAINERFILE CONTEXT [ARGS...]
  local image="$1" file="$2" ctx="$3"; shift 3
  log "building $image"
  as_root podman build -q --isolation=chroot --network host -f "$file" -t "$image" "$@" "$ctx" >/dev/null
}

# ---- the Debian rootfs, imported as an image ----
if ! exists "$ROOTFS_IMAGE"; then
  as_root mkdir -p "$CACHE"
  tarball="$CACHE/$SUITE-minbase.tar"
  if [ -n "$rebuild" ] || [ ! -s "$tarball" ]; then
    root="$(as_root mktemp -d "$CACHE/rootfs.XXXXXX")"
    log "debootstrap --variant=minbase $SUITE ($MIRROR)"
    as_root debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
      || { log "debootstrap failed: $CACHE/debootstrap.log"; tail -5 "$CACHE/debootstrap.log"; exit 1; }
    as_root rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    as_root tar -C "$root" -cf "$tarball.tmp" .
    as_root mv "$tarball.tmp" "$tarball"
    as_root rm -rf "$root"
  fi
  log "importing $ROOTFS_IMAGE"
  as_root podman import -q --change 'CMD ["bash"]' "$tarball" "$ROOTFS_IMAGE" >/dev/null
fi

# ---- node:20-bookworm-slim: the rootfs with this machine's node and npm ----
if ! exists "$NODE_IMAGE"; then
  node_bin="$(readlink -f "$(command -v node)")"
  npm_dir="$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")"
  case "$("$node_bin" --version)" in v20.*) ;; *) log "node here is $("$node_bin" --version), the FROM names 20"; exit 1 ;; esac
  cafile="$(npm config get cafile 2>/dev/null || true)"
  [ -n "$cafile" ] && [ "$cafile" != null ] && [ "$cafile" != undefined ] || cafile="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
  [ -s "$cafile" ] || { log "no CA bundle at $cafile"; exit 1; }
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' EXIT
  cp "$node_bin" "$ctx/node"
  cp -a "$npm_dir" "$ctx/npm"
  cp "$cafile" "$ctx/ca-certificates.crt"
  log "node $("$node_bin" --version) from $node_bin, npm $(node "$npm_dir/bin/npm-cli.js" --version) from $npm_dir, CA bundle $cafile"
  build "$NODE_IMAGE" "$here/node.Containerfile" "$ctx" --build-arg "BASE=$ROOTFS_IMAGE"
  rm -rf "$ctx"
  trap - EXIT
fi

# ---- the compose file's postgres and redis, from Debian's packages ----
exists "$POSTGRES_IMAGE" || build "$POSTGRES_IMAGE" "$here/postgres.Containerfile" "$here" --build-arg "BASE=$ROOTFS_IMAGE"
exists "$REDIS_IMAGE" || build "$REDIS_IMAGE" "$here/redis.Containerfile" "$here" --build-arg "BASE=$ROOTFS_IMAGE"

# ---- podman-compose from Debian trixie, for docker-compose.yml ----
# bookworm's podman-compose 1.0.3 stops on this compose file (the worker's second replica:
# "unknown healthcheck test type [node]") and ignores depends_on's conditions and profiles;
# trixie's 1.3 (pure Python, run with this machine's python3, python3-yaml, python3-dotenv)
# honours them. Only its .deb is fetched (apt-get download, own lists): nothing is installed.
PC="$CACHE/podman-compose/podman_compose.py"
if [ -n "$rebuild" ] || [ ! -s "$PC" ]; then
  work="$(mktemp -d)"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main" >"$work/sources.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
  log "fetching podman-compose from Debian trixie"
  as_root apt-get "${apt_opts[@]}" update -qq >/dev/null
  (cd "$work" && as_root apt-get "${apt_opts[@]}" download -qq podman-compose >/dev/null 2>&1) \
    || { log "apt-get download podman-compose (trixie) failed"; exit 1; }
  dpkg-deb -x "$work"/podman-compose_*.deb "$work/x"
  as_root mkdir -p "$(dirname "$PC")"
  as_root cp "$work/x/usr/lib/python3/dist-packages/podman_compose.py" "$PC"
  as_root rm -rf "$work"
fi
/usr/bin/python3 "$PC" --version >/dev/null 2>&1 || { log "$PC does not run with /usr/bin/python3"; exit 1; }

log "images ready: $NODE_IMAGE, $POSTGRES_IMAGE, $REDIS_IMAGE; $(/usr/bin/python3 "$PC" --version 2>/dev/null | head -1) at $PC"
