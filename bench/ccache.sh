#!/usr/bin/env bash
# The deploy image's rebuild after a C++ source edit, with BuildKit's ccache mount vs without
# (`dependencies: {ccache: false}`), in one run, medians of N edits (default 3), on the host's
# Docker. The workspace: tests/fixtures/deploy_ws plus a package of K C++ files (default 16)
# that each take a while to compile (std::regex, iostream, maps). An edit changes one file: the
# sources' layer is new either way, so colcon builds the package from scratch in the build
# stage; with the mount, ccache answers for the K-1 files that did not change.
# Run by hand, not in CI: bash bench/ccache.sh [N] [K]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-3}"
K="${2:-16}"
cargo build --release -q
R="$PWD/target/release/robodev"
TMP="$(mktemp -d /tmp/robodev-bench-ccache-XXXX)"
export ROBODEV_STATE_DIR="$TMP/state" ROBODEV_CONFIG_DIR="$TMP/config" NO_COLOR=1
cleanup() {
  for ws in "$TMP"/with "$TMP"/without; do
    [ -d "$ws" ] || continue
    (cd "$ws" && ROSDISTRO_INDEX_URL="file://$ws/rosdep/index.yaml" "$R" -q image rm >/dev/null 2>&1) || true
    docker images --format '{{.Repository}}:{{.Tag}}' | grep "^robodev/$(basename "$ws")ccbench$$-deploy:" \
      | xargs -r docker rmi -f >/dev/null 2>&1 || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.0f", m}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() {  # ms WS ARGS...: milliseconds of one robodev command in WS (its log in $TMP/last.log)
  local ws="$1" s e; shift
  s=$(date +%s%N)
  (cd "$ws" && ROSDISTRO_INDEX_URL="file://$ws/rosdep/index.yaml" "$R" "$@") >"$TMP/last.log" 2>&1 \
    || { cat "$TMP/last.log" >&2; exit 1; }
  e=$(date +%s%N)
  echo $(( (e - s) / 1000000 ))
}
source_file() {  # source_file I STAMP: unit I of the heavy package (STAMP is in its code, not a
  # comment: ccache would see through a comment-only edit)
  cat <<EOF
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>
const char* stamp_$1() { return "$2"; }
std::string unit_$1(const std::string& text) {
  std::map<std::string, std::vector<std::string>> seen;
  std::regex word("([a-z]+)_([0-9]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), word); it != std::sregex_iterator(); ++it) {
    seen[(*it)[1]].push_back((*it)[2]);
  }
  std::ostringstream out;
  for (const auto& [k, v] : seen) out << k << "=" << v.size() << ";";
  return out.str();
}
EOF
}
workspace() {  # workspace NAME CCACHE
  local ws="$TMP/$1" pkg
  mkdir -p "$ws"
  cp -r tests/fixtures/deploy_ws/. "$ws/"
  pkg="$ws/src/heavy_cpp"
  mkdir -p "$pkg"
  printf '<?xml version="1.0"?>\n<package format="3">\n  <name>heavy_cpp</name>\n  <version>0.1.0</version>\n  <description>heavy_cpp</description>\n  <maintainer email="dev@example.com">dev</maintainer>\n  <license>MIT</license>\n  <export><build_type>cmake</build_type></export>\n</package>\n' >"$pkg/package.xml"
  {
    echo 'cmake_minimum_required(VERSION 3.10)'
    echo 'project(heavy_cpp CXX)'
    echo 'set(CMAKE_CXX_STANDARD 17)'
    printf 'add_library(heavy SHARED'
    for i in $(seq "$K"); do printf ' unit_%s.cpp' "$i"; done
    echo ')'
    echo 'install(TARGETS heavy LIBRARY DESTINATION lib)'
  } >"$pkg/CMakeLists.txt"
  for i in $(seq "$K"); do source_file "$i" "first" >"$pkg/unit_$i.cpp"; done
  printf 'version: 1\nname: %sccbench%s\nextends: debian\ndependencies: {sources: [rosdep/rules.yaml], ccache: %s}\ndeploy:\n  command: [hello_cpp]\n  cmake_args: [-DCMAKE_BUILD_TYPE=Release]\n' \
    "$1" "$$" "$2" >"$ws/robodev.yaml"
}

workspace with true
workspace without false
# Each: the development image and a first deploy build (the ccache mount filled once).
for w in with without; do
  ms "$TMP/$w" -q build >/dev/null
  ms "$TMP/$w" -q deploy build >/dev/null
done
with=(); without=()
for i in $(seq "$N"); do
  for w in with without; do
    source_file 1 "edit $i" >"$TMP/$w/src/heavy_cpp/unit_1.cpp"
    t=$(ms "$TMP/$w" -v deploy build)
    grep -q "heavy_cpp" "$TMP/last.log" || { echo "run $i ($w): colcon did not build heavy_cpp" >&2; exit 1; }
    if [ "$w" = with ]; then with+=("$t"); else without+=("$t"); fi
  done
done
m_with=$(printf '%s\n' "${with[@]}" | median)
m_without=$(printf '%s\n' "${without[@]}" | median)
printf '| %-58s | %9s | %9s | %5s |\n' "deploy rebuild after a C++ edit ($K files, medians of $N)" "ccache ms" "none ms" "ratio"
printf '|%s|%s|%s|%s|\n' "------------------------------------------------------------" "-----------" "-----------" "-------"
printf '| %-58s | %9s | %9s | %5s |\n' "BuildKit ccache mount vs no ccache (Docker $(docker version -f '{{.Server.Version}}'))" "$m_with" "$m_without" "$(ratio "$m_with" "$m_without")"
echo "runs (ms): with ${with[*]}; without ${without[*]}"
