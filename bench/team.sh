#!/usr/bin/env bash
# Team images and bundles: robodev vs the docker CLI doing the same thing, in the same run,
# medians of N repetitions (default 5) and their ratios.
#  - a new member's `robodev up -d` on an engine without the image, pulling it from a local
#    registry by the digest robodev.lock records, vs `docker pull IMAGE@DIGEST && docker run -d`;
#    and (once) building the same image from scratch on that engine instead;
#  - `robodev save -o - | robodev load -` vs `docker save | docker load` into an engine without
#    the image, with the peak memory (max RSS) of each side.
# The second engine is a private dockerd ("the new member's machine", "the robot"). Needs root,
# docker-registry (Debian's package). Run by hand, not in CI: bash bench/team.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-5}"
cargo build --release -q
R="$PWD/target/release/robodev"
TMP="$(mktemp -d /tmp/robodev-bench-team-XXXX)"
H2="unix://$TMP/d.sock"

cleanup() {
  cd /
  DOCKER_HOST="$H2" "$R" -w "$TMP/ws" -q down >/dev/null 2>&1 || true
  [ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null && sleep 1
  [ -f "$TMP/x/containerd/containerd.pid" ] && kill -9 "$(cat "$TMP/x/containerd/containerd.pid")" 2>/dev/null
  [ -n "${REG:-}" ] && kill "$REG" 2>/dev/null
  grep -o " $TMP[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: 127.0.0.1:%s\n' "$TMP" "$PORT" >"$TMP/registry.yml"
docker-registry serve "$TMP/registry.yml" >/dev/null 2>&1 &
REG=$!
dockerd -H "$H2" --data-root="$TMP/data" --exec-root="$TMP/x" --pidfile="$TMP/d.pid" \
  --bridge=none --iptables=false --ip-forward=false --ip-masq=false >"$TMP/dockerd.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do docker -H "$H2" version >/dev/null 2>&1 && break; sleep 0.2; done

mkdir "$TMP/ws" && cd "$TMP/ws"
printf 'version: 1\nname: team\nextends: debian\nregistry: localhost:%s/bench\n' "$PORT" >robodev.yaml
"$R" -q push
IMG="$("$R" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["image"])')"
REPO="${IMG%:*}"
DIGEST="$(grep -o 'sha256:[0-9a-f]*' robodev.lock | head -1)"

# The second engine without any image or container.
reset2() {
  DOCKER_HOST="$H2" "$R" -q down >/dev/null 2>&1 || true
  docker -H "$H2" rm -f bench-docker >/dev/null 2>&1 || true
  local ids; ids="$(docker -H "$H2" images -aq)"
  [ -z "$ids" ] || docker -H "$H2" rmi -f $ids >/dev/null 2>&1 || true
}
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.0f", m}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }'; }

robodev_up() { DOCKER_HOST="$H2" "$R" -q up -d; }
docker_up() { docker -H "$H2" pull -q "$REPO@$DIGEST" && docker -H "$H2" run -d --name bench-docker --network host "$REPO@$DIGEST" sleep infinity; }
robodev_bundle() {
  /usr/bin/time -f %M -o "$TMP/save.rss" "$R" -q save -o - |
    DOCKER_HOST="$H2" /usr/bin/time -f %M -o "$TMP/load.rss" "$R" -q load -
}
docker_bundle() {
  /usr/bin/time -f %M -o "$TMP/dsave.rss" docker save "$IMG" |
    /usr/bin/time -f %M -o "$TMP/dload.rss" docker -H "$H2" load
}

declare -a up_r up_d bundle_r bundle_d rss_save rss_load rss_dsave rss_dload
for i in $(seq "$N"); do
  reset2; up_r+=("$(ms robodev_up)")
  reset2; up_d+=("$(ms docker_up)")
  reset2; bundle_r+=("$(ms robodev_bundle)"); rss_save+=("$(cat "$TMP/save.rss")"); rss_load+=("$(cat "$TMP/load.rss")")
  reset2; bundle_d+=("$(ms docker_bundle)"); rss_dsave+=("$(cat "$TMP/dsave.rss")"); rss_dload+=("$(cat "$TMP/dload.rss")")
done
# Once: the same image built from scratch on the second engine (base image loaded first).
reset2
docker save debian:bookworm | docker -H "$H2" load >/dev/null
build_ms=$(ms env DOCKER_HOST="$H2" "$R" -q build --build)

upr=$(printf '%s\n' "${up_r[@]}" | median); upd=$(printf '%s\n' "${up_d[@]}" | median)
br=$(printf '%s\n' "${bundle_r[@]}" | median); bd=$(printf '%s\n' "${bundle_d[@]}" | median)
mb() { printf '%s\n' "$@" | median | awk '{printf "%.0f MB", $1/1024}'; }
size="$(docker image inspect -f '{{.Size}}' "$IMG" | awk '{printf "%.2f GB", $1/1e9}')"

echo "robodev $("$R" --version | cut -d' ' -f2), Docker $(docker version -f '{{.Server.Version}}'), $(nproc) cores, $(uname -m), image $size, medians of $N runs, $(date -u +%F)"
echo
printf '| %-58s | %10s | %10s | %5s |\n' "operation" "robodev ms" "docker ms" "ratio"
printf '|%s|%s|%s|%s|\n' "------------------------------------------------------------" "------------" "------------" "-------"
printf '| %-58s | %10s | %10s | %5s |\n' "new member: up -d (pull by digest) vs docker pull && run -d" "$upr" "$upd" "$(ratio "$upr" "$upd")"
printf '| %-58s | %10s | %10s | %5s |\n' "new member: up -d (pull) vs building from scratch (1 run)" "$upr" "$build_ms" "$(ratio "$upr" "$build_ms")"
printf '| %-58s | %10s | %10s | %5s |\n' "save -o - | load - vs docker save | docker load" "$br" "$bd" "$(ratio "$br" "$bd")"
echo
echo "peak memory (max RSS, median): robodev save $(mb "${rss_save[@]}"), robodev load $(mb "${rss_load[@]}"); docker save $(mb "${rss_dsave[@]}"), docker load $(mb "${rss_dload[@]}")"
