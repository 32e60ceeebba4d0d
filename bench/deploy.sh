#!/usr/bin/env bash
# Deploy images, in one run: the deploy image's size against the development image and against
# a naive single-stage image of the same workspace (the build stage alone: everything the
# build needed, plus the build), and the time of a deploy build after a source edit against a
# cold one (--no-cache), medians of N edits (default 3).
# The workspace is tests/fixtures/deploy_ws (a C++ executable and library, a Python package,
# an exec-only dependency resolved offline). Run by hand, not in CI: bash bench/deploy.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-3}"
cargo build --release -q
R="$PWD/target/release/robodev"
WS="$(mktemp -d /tmp/robodev-bench-deploy-XXXX)"
trap 'cd /; docker rmi -f robodev-bench-naive:latest >/dev/null 2>&1 || true; rm -rf "$WS"' EXIT
cp -r tests/fixtures/deploy_ws/. "$WS/"
cd "$WS"
printf 'version: 1\nname: benchdeploy\nextends: debian\ndependencies: {sources: [rosdep/rules.yaml]}\ndeploy:\n  command: [hello_cpp]\n  cmake_args: [-DCMAKE_BUILD_TYPE=Release]\n' >robodev.yaml
export ROSDISTRO_INDEX_URL="file://$WS/rosdep/index.yaml"

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.0f", m}'; }
size() { docker image inspect -f '{{.Size}}' "$1"; }
tag_of() { "$R" deploy build 2>&1 | grep -o 'robodev/benchdeploy-deploy:[0-9a-f]*' | head -1; }

"$R" -q build
cold=$(ms "$R" -q deploy build --no-cache)
declare -a edits
for i in $(seq "$N"); do
  printf '// robodev-e2e-source-only\n#include <string>\nstd::string greeting() { return "edit %s"; }\n' "$i" >src/hello_cpp/greet.cpp
  edits+=("$(ms "$R" -q deploy build)")
done
edit=$(printf '%s\n' "${edits[@]}" | median)
DEPLOY="$(tag_of)"
DEV="$("$R" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["image"])')"
"$R" -q generate --deploy
docker build -q --network host --target build -f .robodev/deploy/Dockerfile -t robodev-bench-naive:latest . >/dev/null
d=$(size "$DEPLOY"); v=$(size "$DEV"); n=$(size robodev-bench-naive:latest)
mb() { awk -v b="$1" 'BEGIN{printf "%.0f MB", b/1e6}'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.0f%%", 100*a/b}'; }

echo "robodev $("$R" --version | cut -d' ' -f2), Docker $(docker version -f '{{.Server.Version}}'), $(nproc) cores, $(uname -m), $(date -u +%F)"
echo
printf '| %-52s | %12s | %8s |\n' "image" "size" "of dev"
printf '|%s|%s|%s|\n' "------------------------------------------------------" "--------------" "----------"
printf '| %-52s | %12s | %8s |\n' "development image (robodev build)" "$(mb "$v")" "100%"
printf '| %-52s | %12s | %8s |\n' "naive single-stage image (the build stage alone)" "$(mb "$n")" "$(pct "$n" "$v")"
printf '| %-52s | %12s | %8s |\n' "deploy image (robodev deploy build)" "$(mb "$d")" "$(pct "$d" "$v")"
echo
printf '| %-52s | %12s |\n' "deploy build" "ms"
printf '|%s|%s|\n' "------------------------------------------------------" "--------------"
printf '| %-52s | %12s |\n' "cold (--no-cache)" "$cold"
printf '| %-52s | %12s |\n' "after a source edit (median of $N)" "$edit"
awk -v a="$edit" -v b="$cold" 'BEGIN{printf "\nafter a source edit / cold: %.2f\n", a/b}'
