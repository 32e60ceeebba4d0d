#!/usr/bin/env bash
# Workspace dependencies, measured in one run (medians of N, default 5): scanning a 200-package
# workspace (robodev deps, no engine) against `find` listing the same package.xml files; a source
# edit (no build call); `robodev build` after adding one dependency against a cold build of the
# same profile (and which layers were rebuilt); a clean colcon build of a C++ package with a warm
# ccache against a cold one. Run by hand (not in CI): bash bench/dependencies.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-5}"
cargo build --release -q
R="$PWD/target/release/robodev"
WS="$(mktemp -d /tmp/robodev-bench-deps-XXXX)"
trap 'cd /; "$R" -w "$WS" down -q >/dev/null 2>&1 || true; rm -rf "$WS"' EXIT
cd "$WS"

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median_ms() { "$@" >/dev/null 2>&1 || true; for _ in $(seq "$N"); do ms "$@"; done | median; }

# A 200-package workspace, each package with three dependencies; rules for all of them.
mkdir -p rosdep
printf '%%YAML 1.1\n---\ndistributions: {}\ntype: index\nversion: 4\n' > rosdep/index.yaml
{
  echo "bench-tree:"; echo "  debian: [tree]"
  echo "bench-jq:"; echo "  debian: [jq]"
  echo "bench-added:"; echo "  debian: [file]"
  echo "cmake:"; echo "  debian: [cmake]"
} > rosdep/rules.yaml
for i in $(seq 200); do
  mkdir -p "src/group$((i % 10))/pkg$i"
  cat > "src/group$((i % 10))/pkg$i/package.xml" <<EOF
<?xml version="1.0"?>
<package format="3">
  <name>pkg$i</name><version>0.1.0</version><description>bench</description>
  <maintainer email="b@example.com">b</maintainer><license>MIT</license>
  <depend>bench-tree</depend>
  <exec_depend>bench-jq</exec_depend>
  $( [ "$i" -lt 200 ] && echo "<exec_depend>pkg$((i + 1))</exec_depend>" )
</package>
EOF
done
mkdir -p src/hello/src
cat > src/hello/package.xml <<'EOF'
<?xml version="1.0"?>
<package format="3">
  <name>hello</name><version>0.1.0</version><description>bench</description>
  <maintainer email="b@example.com">b</maintainer><license>MIT</license>
  <buildtool_depend>cmake</buildtool_depend>
  <export><build_type>cmake</build_type></export>
</package>
EOF
printf 'cmake_minimum_required(VERSION 3.10)\nproject(hello CXX)\nadd_executable(hello src/main.cpp)\ninstall(TARGETS hello DESTINATION bin)\n' > src/hello/CMakeLists.txt
# A translation unit heavy enough for the compiler to matter.
{
  echo '#include <iostream>'; echo '#include <map>'; echo '#include <regex>'; echo '#include <string>'
  for f in $(seq 60); do echo "std::string f$f(const std::string& s) { std::regex r(\"a+$f\"); std::map<std::string,int> m; m[s]=$f; return std::regex_replace(s, r, \"b\") + std::to_string(m.size()); }"; done
  echo 'int main() { std::cout << f1("aaa") << std::endl; }'
} > src/hello/src/main.cpp
stamp=$(date +%s%N)
printf 'version: 1\nname: benchdeps\nextends: debian\nenv: {BENCH: "%s"}\ndependencies: {sources: [rosdep/rules.yaml]}\n' "$stamp" > robodev.yaml
export ROSDISTRO_INDEX_URL="file://$WS/rosdep/index.yaml"

scan=$(median_ms "$R" deps)
find_ms=$(median_ms find src -name package.xml)

"$R" -q lock
cold_s=$( { s=$(date +%s%N); "$R" -q build --no-cache >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); } )
tag_before=$("$R" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["image"])')
layers_before=$(docker image inspect -f '{{json .RootFS.Layers}}' "$tag_before")

echo '// edited' >> src/hello/src/main.cpp
edit=$(median_ms "$R" -q build)

sed -i 's|<exec_depend>bench-jq</exec_depend>|<exec_depend>bench-jq</exec_depend>\n  <exec_depend>bench-added</exec_depend>|' src/group1/pkg1/package.xml
added=$(ms "$R" -q build)
tag_after=$("$R" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["image"])')
layers_after=$(docker image inspect -f '{{json .RootFS.Layers}}' "$tag_after")
kept=$(python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(sum(1 for x,y in zip(a,b) if x==y), len(b))" "$layers_before" "$layers_after")

"$R" -q up -d
# A failed build must not pass for a fast one.
colcon() { "$R" exec -- sh -c "rm -rf build install log && colcon build --packages-select hello >/dev/null" || { echo "colcon build failed" >&2; exit 1; }; }
"$R" exec -- sh -c 'ccache -C >/dev/null'
colcon
"$R" exec -- sh -c 'ccache -C >/dev/null'
cold_cc=$(ms colcon)
warm_cc=$(for _ in $(seq "$N"); do ms colcon; done | median)

echo "robodev $("$R" --version | cut -d' ' -f2), Docker $(docker version -f '{{.Server.Version}}'), $(nproc) cores, $(uname -m), medians of $N runs, $(date -u +%F)"
echo
printf '| %-52s | %10s | %10s | %6s |\n' "operation" "robodev ms" "baseline ms" "ratio"
printf '|%s|%s|%s|%s|\n' "------------------------------------------------------" "------------" "-------------" "--------"
row() { printf '| %-52s | %10s | %10s | %6s |\n' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }')"; }
row "deps: scan 200 packages vs find package.xml" "$scan" "$find_ms"
row "build after a source edit (no build call)" "$edit" "-"
row "build after adding a dependency vs cold build" "$added" "$cold_s"
row "colcon build, warm ccache vs cold ccache" "$warm_cc" "$cold_cc"
echo
echo "layers kept after adding a dependency: ${kept% *} of ${kept#* } (base, tooling, ROS)"
