#!/usr/bin/env bash
# BuildKit, measured in one run (medians of N, default 3), the `debian` profile on this machine:
#   1. a cold build (no layer cache, no cache mounts: --no-cache) with BuildKit vs the classic
#      builder (--classic-builder), on the host's Docker;
#   2. a rebuild after adding one apt package: BuildKit with the apt cache mounts vs the classic
#      builder (each run adds another package, so the apt layer is always new);
#   3. an empty engine (a CI runner: a second Docker 26.1 that has none of the profile's layers)
#      building the profile after one apt package was added, with the registry's build cache,
#      vs the cold build of the profile on the developer's Docker 26.1 (the same engine kind).
# Run by hand (not in CI), with scripts/engines.sh's d26 and d26-2 up: bash bench/buildkit.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-3}"
cargo build --release -q
R="$PWD/target/release/robodev"
PORT=5094
TMP="$(mktemp -d /tmp/robodev-bench-buildkit-XXXX)"
WS="$TMP/ws"
mkdir -p "$WS" "$TMP/registry"
NAME="bkbench$$"
D20=unix:///var/run/docker.sock
D26=unix:///run/robodev-engines/d26.sock
RUNNER=unix:///run/robodev-engines/d26-2.sock
export ROBODEV_STATE_DIR="$TMP/state" ROBODEV_CONFIG_DIR="$TMP/config" NO_COLOR=1

cat > "$TMP/registry/config.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $TMP/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$PORT
EOF
docker-registry serve "$TMP/registry/config.yml" >"$TMP/registry/log" 2>&1 &
REGISTRY_PID=$!
BASES=()
cleanup() {
  kill "$REGISTRY_PID" 2>/dev/null || true
  # Every image of the bench's repository (pushed, built, the build cache's tag) on both engines.
  for s in d26 d26-2; do
    sock="/run/robodev-engines/$s.sock"
    curl -s --unix-socket "$sock" http://x/images/json | python3 -c "
import json, sys
for i in json.load(sys.stdin):
    for t in i.get('RepoTags') or []:
        if t.startswith('localhost:$PORT/bench/$NAME:'):
            print(t)" | while read -r t; do
      curl -s --unix-socket "$sock" -X DELETE "http://x/images/$t?force=1" >/dev/null || true
    done
  done
  for b in "${BASES[@]}"; do
    docker rmi -f "$b" >/dev/null 2>&1 || true
    for s in d26 d26-2; do
      curl -s --unix-socket "/run/robodev-engines/$s.sock" -X DELETE "http://x/images/$b?force=1" >/dev/null || true
    done
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.0f", m}'; }
# Milliseconds of one robodev command on an engine; its output kept in $TMP/last.log.
ms() {
  local host="$1" s e; shift
  s=$(date +%s%N)
  (cd "$WS" && DOCKER_HOST="$host" "$R" "$@") >"$TMP/last.log" 2>&1 || { cat "$TMP/last.log" >&2; exit 1; }
  e=$(date +%s%N)
  echo $(( (e - s) / 1000000 ))
}
profile() {  # profile BASE APT [REGISTRY]
  {
    echo "version: 1"; echo "name: $NAME"; echo "extends: debian"
    echo "base_image: $1"; echo "apt: [$2]"
    if [ -n "${3:-}" ]; then echo "registry: $3"; fi
  } > "$WS/robodev.yaml"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
SMALL=(jq file bc less lsof psmisc strace time patch ed)

# 1. Cold builds on the host's Docker 20.10.
profile debian:bookworm tree
cold_bk=(); cold_classic=()
for i in $(seq "$N"); do
  cold_bk+=("$(ms $D20 build --build --no-cache)")
  cold_classic+=("$(ms $D20 build --build --no-cache --classic-builder)")
done
m_cold_bk=$(printf '%s\n' "${cold_bk[@]}" | median)
m_cold_classic=$(printf '%s\n' "${cold_classic[@]}" | median)

# 2. One more apt package: both builders warm first (their layer caches are their own).
ms $D20 build --build >/dev/null
ms $D20 build --build --classic-builder >/dev/null
add_bk=(); add_classic=()
for i in $(seq "$N"); do
  profile debian:bookworm "tree, ${SMALL[$((2 * i - 2))]}"
  add_bk+=("$(ms $D20 build --build)")
  profile debian:bookworm "tree, ${SMALL[$((2 * i - 1))]}"
  add_classic+=("$(ms $D20 build --build --classic-builder)")
done
m_add_bk=$(printf '%s\n' "${add_bk[@]}" | median)
m_add_classic=$(printf '%s\n' "${add_classic[@]}" | median)
(cd "$WS" && "$R" image rm >/dev/null 2>&1) || true

# 3. The registry's build cache on an empty engine. Each run: a base of its own (so no engine
# has a layer of it), the developer's cold build and push on d26, one more apt package, the
# runner's build on d26-2.
cold_d26=(); runner=()
for i in $(seq "$N"); do
  base="robodev-bench/base:$$-$i"
  BASES+=("$base")
  docker run --name "bkbench-$$-$i" --network=host debian:bookworm touch "/bench-$i" >/dev/null
  docker commit "bkbench-$$-$i" "$base" >/dev/null
  docker rm "bkbench-$$-$i" >/dev/null
  for s in d26 d26-2; do
    docker save "$base" | curl -sf --unix-socket "/run/robodev-engines/$s.sock" -X POST \
      -H Content-Type:application/x-tar --data-binary @- http://x/images/load >/dev/null
  done
  profile "$base" tree "localhost:$PORT/bench"
  cold_d26+=("$(ms $D26 build --build)")
  ms $D26 push >/dev/null
  profile "$base" "tree, jq" "localhost:$PORT/bench"
  runner+=("$(ms $RUNNER build --build)")
  grep -q "CACHED" "$TMP/last.log" || echo "warning: run $i: the runner used no cached layer" >&2
  for h in $D26 $RUNNER; do (cd "$WS" && DOCKER_HOST=$h "$R" image rm >/dev/null 2>&1) || true; done
done
m_cold_d26=$(printf '%s\n' "${cold_d26[@]}" | median)
m_runner=$(printf '%s\n' "${runner[@]}" | median)

printf '| %-62s | %9s | %9s | %5s |\n' "operation (debian profile, medians of $N)" "ms" "baseline" "ratio"
printf '|%s|%s|%s|%s|\n' "----------------------------------------------------------------" "-----------" "-----------" "-------"
printf '| %-62s | %9s | %9s | %5s |\n' "cold build: BuildKit vs classic (Docker 20.10)" "$m_cold_bk" "$m_cold_classic" "$(ratio "$m_cold_bk" "$m_cold_classic")"
printf '| %-62s | %9s | %9s | %5s |\n' "one more apt package: BuildKit + apt cache vs classic (20.10)" "$m_add_bk" "$m_add_classic" "$(ratio "$m_add_bk" "$m_add_classic")"
printf '| %-62s | %9s | %9s | %5s |\n' "empty engine + registry cache vs cold build (Docker 26.1)" "$m_runner" "$m_cold_d26" "$(ratio "$m_runner" "$m_cold_d26")"
echo "runs (ms): cold BuildKit ${cold_bk[*]}; cold classic ${cold_classic[*]}; +1 apt BuildKit ${add_bk[*]}; +1 apt classic ${add_classic[*]}; d26 cold ${cold_d26[*]}; runner ${runner[*]}"
