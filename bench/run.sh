#!/usr/bin/env bash
# robodev vs the docker CLI doing the same thing, in the same run: medians of N repetitions
# (default 9) and their ratios. Run by hand (not in CI): bash bench/run.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-9}"
cargo build --release -q
R="$PWD/target/release/robodev"
WS="$(mktemp -d /tmp/robodev-bench-XXXX)"
trap 'cd /; "$R" -w "$WS" down -q debian >/dev/null 2>&1 || true; rm -rf "$WS"' EXIT
cd "$WS"
"$R" -q up -d debian
CTR="$("$R" status debian --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["container"])')"
IMG="$("$R" status debian --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["image"])')"

# median wall time in ms of running "$@" N times (after one warm-up run)
median_ms() {
  "$@" >/dev/null 2>&1 || true
  for _ in $(seq "$N"); do
    local s e
    s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
  done | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'
}

row() { # name robodev-ms docker-ms
  printf '| %-40s | %9s | %9s | %5s |\n' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }')"
}

up=$(median_ms "$R" -q up -d debian);            insp=$(median_ms docker inspect "$CTR")
ex=$(median_ms "$R" exec debian -- true);         dex=$(median_ms docker exec "$CTR" true)
run=$(median_ms "$R" -q run debian -- true);      drun=$(median_ms docker run --rm --network host "$IMG" true)
build=$(median_ms "$R" -q build debian)

echo "robodev $("$R" --version | cut -d' ' -f2), Docker $(docker version -f '{{.Server.Version}}'), $(nproc) cores, $(uname -m), medians of $N runs, $(date -u +%F)"
echo
printf '| %-40s | %9s | %9s | %5s |\n' "operation" "robodev ms" "docker ms" "ratio"
printf '|%s|%s|%s|%s|\n' "------------------------------------------" "-----------" "-----------" "-------"
row "up -d (running) vs docker inspect" "$up" "$insp"
row "exec -- true vs docker exec true" "$ex" "$dex"
row "run -- true vs docker run --rm true" "$run" "$drun"
printf '| %-40s | %9s | %9s | %5s |\n' "build, unchanged profile (no build call)" "$build" "-" "-"
