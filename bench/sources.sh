#!/usr/bin/env bash
# Multi-repo workspaces, measured in one run (medians of N, default 5): `robodev sources import`
# of a .repos file naming 20 repositories served by a local `git daemon`, against Debian's
# `vcs import` of the same file (as it comes, and with --shallow --workers 8), taking turns,
# each into a fresh directory; then
# `robodev sources status` on those 20 clones. Each repository has 200 commits of a few files,
# so history is there to fetch (robodev clones a branch one commit deep; vcs import clones it
# whole). Run by hand (not in CI): bash bench/sources.sh [N]   (ROBODEV=path: that binary)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-5}"
if [ -z "${ROBODEV:-}" ]; then
  cargo build --release -q
  ROBODEV="$PWD/target/release/robodev"
fi
R="$ROBODEV"
command -v vcs >/dev/null || { echo "vcs (Debian's vcstool) is missing: scripts/provision.sh installs it" >&2; exit 1; }
DIR="$(mktemp -d /tmp/robodev-bench-sources-XXXX)"
DAEMON=""
trap 'cd /; [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null; rm -rf "$DIR"' EXIT
cd "$DIR"

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
mkdir -p srv work
for i in $(seq -w 1 20); do
  git init -q -b main "work/repo$i"
  (
    cd "work/repo$i"
    mkdir -p src
    for c in $(seq 200); do
      printf 'int f%s(void) { return %s; }\n' "$c" "$c" > "src/f$((c % 10)).c"
      printf 'commit %s of repo%s\n' "$c" "$i" > README
      git add -A && git commit -q -m "change $c"
    done
    printf '<package format="3"><name>repo%s</name></package>\n' "$i" > package.xml
    git add -A && git commit -q -m package
  )
  git clone -q --bare "work/repo$i" "srv/repo$i.git"
done
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$(git --exec-path)/git-daemon" --export-all --reuseaddr --listen=127.0.0.1 --port="$PORT" \
  --base-path="$DIR/srv" "$DIR/srv" >/dev/null 2>&1 &
DAEMON=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
{
  echo "repositories:"
  for i in $(seq -w 1 20); do
    printf '  repo%s:\n    type: git\n    url: git://127.0.0.1:%s/repo%s.git\n    version: main\n' "$i" "$PORT" "$i"
  done
} > team.repos

fresh_ws() {
  rm -rf "$1" && mkdir -p "$1"
  printf 'version: 1\nextends: debian\nsources: [team.repos]\n' > "$1/robodev.yaml"
  cp team.repos "$1/"
}
robodev_import() {
  fresh_ws "$DIR/ws-robodev"
  local s e; s=$(now_ms)
  "$R" -q -w "$DIR/ws-robodev" sources import >/dev/null 2>&1
  e=$(now_ms); echo $((e - s))
}
vcs_import() {
  rm -rf "$DIR/ws-vcs" && mkdir -p "$DIR/ws-vcs/src"
  local s e; s=$(now_ms)
  vcs import "$@" --input "$DIR/team.repos" "$DIR/ws-vcs/src" >/dev/null 2>&1
  e=$(now_ms); echo $((e - s))
}

robodev_import >/dev/null; vcs_import >/dev/null   # warm the page cache and the daemon
R_MS=(); V_MS=(); VS_MS=()
for _ in $(seq "$N"); do
  R_MS+=("$(robodev_import)")
  V_MS+=("$(vcs_import)")
  # vcstool as close to robodev as it goes: shallow clones, as many at once.
  VS_MS+=("$(vcs_import --shallow --workers 8)")
done
r=$(printf '%s\n' "${R_MS[@]}" | median)
v=$(printf '%s\n' "${V_MS[@]}" | median)
vs=$(printf '%s\n' "${VS_MS[@]}" | median)
[ "$(ls "$DIR/ws-robodev/src" | wc -l)" = 20 ] || { echo "robodev did not import 20 repositories" >&2; exit 1; }

"$R" -q -w "$DIR/ws-robodev" sources status >/dev/null
S_MS=()
for _ in $(seq "$N"); do
  s=$(now_ms); "$R" -q -w "$DIR/ws-robodev" sources status >/dev/null; e=$(now_ms)
  S_MS+=("$((e - s))")
done
st=$(printf '%s\n' "${S_MS[@]}" | median)

printf '| operation (20 repositories, git daemon)  | robodev ms | vcs ms | ratio |\n'
printf '|------------------------------------------|------------|--------|-------|\n'
printf '| sources import vs vcs import             | %10s | %6s | %5s |\n' "$r" "$v" \
  "$(awk -v a="$r" -v b="$v" 'BEGIN {printf "%.2f", a / b}')"
printf '| sources import vs vcs import --shallow -w 8 | %7s | %6s | %5s |\n' "$r" "$vs" \
  "$(awk -v a="$r" -v b="$vs" 'BEGIN {printf "%.2f", a / b}')"
printf '| sources status                           | %10s |      - |     - |\n' "$st"
echo "runs (ms): robodev ${R_MS[*]}; vcs ${V_MS[*]}; vcs --shallow -w 8 ${VS_MS[*]}; status ${S_MS[*]}"
