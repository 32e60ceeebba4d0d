#!/usr/bin/env bash
# The local loop on each engine against that engine's own CLI, in the same run: medians of N
# repetitions (default 7) and their ratios.
#   d20   the host's Docker 20.10 (the default socket)        vs /usr/bin/docker (20.10)
#   d26   Docker 26.1, graph store        (scripts/engines.sh) vs trixie's docker 26.1 CLI
#   d26c  Docker 26.1, containerd store   (scripts/engines.sh) vs trixie's docker 26.1 CLI
#   p5    Podman 5.4 API service          (scripts/engines.sh) vs trixie's podman 5.4 --remote
# Each engine gets a workspace of its own under one temporary directory, with a profile whose
# image installs nothing (debian:bookworm, no sudo, no ccache), its own ROBODEV_STATE_DIR and
# ROBODEV_CONFIG_DIR; robodev builds it and brings it up once, then, for each operation, robodev
# and the CLI take turns (one run each, N times: load on the machine hits both alike):
#   robodev up -d  (running)  vs  CLI start CONTAINER (already running: one start call)
#   robodev exec -- true      vs  CLI exec CONTAINER true
#   robodev run -- true       vs  CLI run --rm --network host IMAGE true
#   robodev build  (no-op)    vs  CLI image inspect IMAGE
# Targets: every ratio <= 1.1, the no-op build under 50 ms; misses are listed at the end.
#
# The CLIs of the trixie root are run directly with that root's dynamic loader and libraries,
# not through `scripts/engines.sh cli` (which enters a mount namespace and pivots into the root
# for each call: about 0.2 s that is not the CLI's). Engines that do not answer are skipped.
# Needs root and the engines of scripts/engines.sh up. Run by hand, not in CI:
#   bash bench/engines.sh [N] [ENGINE ...]       (ROBODEV_BIN=path: that binary, no cargo build)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-7}"
shift || true
ENGINES=("$@")
[ ${#ENGINES[@]} -gt 0 ] || ENGINES=(d20 d26 d26c p5)

TMP="$(mktemp -d /tmp/robodev-bench-engines-XXXX)"
if [ -z "${ROBODEV_BIN:-}" ]; then
  cargo build --release -q
  ROBODEV_BIN="$PWD/target/release/robodev"
fi
# A copy: a concurrent `cargo build` cannot swap the binary in the middle of a run.
cp "$ROBODEV_BIN" "$TMP/robodev"
R="$TMP/robodev"

ROOT=/var/cache/robodev-test/trixie-root
ROOT_LD="$ROOT/usr/lib64/ld-linux-x86-64.so.2"
ROOT_LIBS="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu"

sock_of() { case "$1" in d20) echo /var/run/docker.sock ;; *) echo "/run/robodev-engines/$1.sock" ;; esac; }

# Point this shell at ENGINE's workspace: its directory, state and config, and DOCKER_HOST (d20:
# none, the default socket, as a user of the host's Docker has it). Neither robodev nor the CLI
# then runs through an extra process (a subshell, env) that the other does not have.
use_engine() {
  cd "$TMP/$1/ws"
  export ROBODEV_STATE_DIR="$TMP/$1/state" ROBODEV_CONFIG_DIR="$TMP/$1/config"
  unset DOCKER_CONTEXT
  if [ "$1" = d20 ]; then unset DOCKER_HOST; else export DOCKER_HOST="unix://$(sock_of "$1")"; fi
}

# The engine's own CLI (after use_engine): cli ENGINE ARGS...
cli() {
  local e=$1; shift
  case "$e" in
    d20) /usr/bin/docker "$@" ;;
    d26 | d26c) "$ROOT_LD" --library-path "$ROOT_LIBS" "$ROOT/usr/bin/docker" "$@" ;;
    p5) "$ROOT_LD" --library-path "$ROOT_LIBS" "$ROOT/usr/bin/podman" --remote --url unix:///run/robodev-engines/p5.sock "$@" ;;
  esac
}

# robodev (after use_engine).
rd() { "$R" "$@"; }

SET_UP=()
cleanup() {
  local e img
  for e in "${SET_UP[@]}"; do
    img=$(cat "$TMP/$e/image" 2>/dev/null || true)
    use_engine "$e"
    rd -q down --volumes >/dev/null 2>&1 || true
    [ -z "$img" ] || cli "$e" image rm "$img" >/dev/null 2>&1 || true
  done
  cd /
  rm -rf "$TMP"
}
trap cleanup EXIT

now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }'; }

# pair A-command... ::: B-command...: one warm-up run of each (which must succeed), then N
# turns of A then B; prints "A-median-ms B-median-ms".
pair() {
  local -a a=() b=()
  while [ "$1" != ::: ]; do a+=("$1"); shift; done
  shift
  b=("$@")
  local out
  if ! out=$("${a[@]}" 2>&1 </dev/null) || ! out=$("${b[@]}" 2>&1 </dev/null); then
    printf 'bench/engines.sh: failed:\n%s\n' "$out" >&2
    echo "ERR ERR"
    return
  fi
  local i s ta=() tb=()
  for ((i = 0; i < N; i++)); do
    s=$(now_us); "${a[@]}" >/dev/null 2>&1 </dev/null; ta+=($(($(now_us) - s)))
    s=$(now_us); "${b[@]}" >/dev/null 2>&1 </dev/null; tb+=($(($(now_us) - s)))
  done
  echo "$(printf '%s\n' "${ta[@]}" | median) $(printf '%s\n' "${tb[@]}" | median)"
}

ROWS=()
MISSES=()
row() { # engine operation robodev-ms cli-ms
  local r; r=$(ratio "$3" "$4")
  ROWS+=("$(printf '| %-6s | %-44s | %10s | %8s | %5s |' "$1" "$2" "$3" "$4" "$r")")
  if [ "$3" = ERR ] || [ "$4" = ERR ]; then MISSES+=("$1: $2 failed"); return; fi
  awk -v r="$r" 'BEGIN{ exit !(r > 1.1) }' && MISSES+=("$1: $2: ratio $r > 1.1")
  return 0
}

VERSIONS=()
for e in "${ENGINES[@]}"; do
  case "$e" in d20 | d26 | d26c | p5) ;; *) echo "unknown engine '$e' (d20 d26 d26c p5)" >&2; exit 2 ;; esac
  if [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' --unix-socket "$(sock_of "$e")" http://x/_ping || true)" != 200 ]; then
    echo "bench/engines.sh: $e does not answer on $(sock_of "$e"): skipped (bash scripts/engines.sh up)" >&2
    continue
  fi
  mkdir -p "$TMP/$e/ws" "$TMP/$e/state" "$TMP/$e/config"
  cat >"$TMP/$e/ws/robodev.yaml" <<EOF
version: 1
name: bench$e
ros: {distro: humble}
base_image: debian:bookworm
security: {sudo: false}
dependencies: {ccache: false}
EOF
  SET_UP+=("$e")
  use_engine "$e"
  echo "[$e] building and starting the environment" >&2
  rd -q up -d
  st=$(rd status --json)
  ctr=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["container"])' "$st")
  img=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["image"])' "$st")
  echo "$img" >"$TMP/$e/image"
  VERSIONS+=("$e: server $(cli "$e" version --format '{{.Server.Version}}' 2>/dev/null || echo '?'), CLI $(cli "$e" version --format '{{.Client.Version}}' 2>/dev/null || echo '?')")

  echo "[$e] timing (N=$N)" >&2
  read -r a b < <(pair rd -q up -d ::: cli "$e" start "$ctr")
  row "$e" "up -d (running) vs CLI start (running)" "$a" "$b"
  read -r a b < <(pair rd exec -- true ::: cli "$e" exec "$ctr" true)
  row "$e" "exec -- true vs CLI exec true" "$a" "$b"
  read -r a b < <(pair rd -q run -- true ::: cli "$e" run --rm --network host "$img" true)
  row "$e" "run -- true vs CLI run --rm true" "$a" "$b"
  read -r a b < <(pair rd -q build ::: cli "$e" image inspect "$img")
  row "$e" "build, no-op vs CLI image inspect" "$a" "$b"
  if [ "$a" != ERR ] && awk -v a="$a" 'BEGIN{ exit !(a >= 50) }'; then
    MISSES+=("$e: no-op build $a ms >= 50 ms")
  fi
done

echo
echo "robodev $("$R" --version | cut -d' ' -f2), $(nproc) cores, $(uname -m), load $(cut -d' ' -f1-3 /proc/loadavg), medians of $N runs, $(date -u +%F)"
for v in "${VERSIONS[@]}"; do echo "  $v"; done
echo
printf '| %-6s | %-44s | %10s | %8s | %5s |\n' engine operation "robodev ms" "CLI ms" ratio
printf '|%s|%s|%s|%s|%s|\n' --------  ---------------------------------------------- ------------ ---------- -------
for r in "${ROWS[@]}"; do echo "$r"; done
echo
if [ ${#MISSES[@]} -eq 0 ]; then
  echo "targets met: every ratio <= 1.1, every no-op build < 50 ms"
else
  echo "targets missed:"
  for m in "${MISSES[@]}"; do echo "  $m"; done
fi
