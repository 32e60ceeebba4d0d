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
