#!/usr/bin/env bash
# An engine on "another machine" over ssh: `robodev exec -- true` vs `docker -H ssh://… exec CTR
# true`, in the same run, medians of N (default 7). The remote is a second dockerd reached through
# Debian's sshd on 127.0.0.1 as user `robot`; the developer is user robodev-e2e (as in the
# end-to-end tests). Needs root; run by hand (not in CI): bash bench/remote.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-7}"
[ "$(id -u)" = 0 ] || { echo "bench/remote.sh needs root (it makes users and an sshd)"; exit 1; }
cargo build --release -q
R="$PWD/target/release/robodev"
B="$(mktemp -d /tmp/robodev-bench-remote-XXXX)"; chmod 755 "$B"
DEV=robodev-e2e
cleanup() {
  set +e
  [ -n "${SSHD_PID:-}" ] && kill "$SSHD_PID"
  docker -H "unix://$B/d.sock" rm -f $(docker -H "unix://$B/d.sock" ps -aq) >/dev/null 2>&1
  [ -n "${DOCKERD_PID:-}" ] && kill "$DOCKERD_PID" && wait "$DOCKERD_PID" 2>/dev/null
  grep " $B/" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l
  rm -rf "$B" /home/robot/benchws
}
trap cleanup EXIT

for u in "$DEV:4242" "robot:4343"; do
  id "${u%%:*}" >/dev/null 2>&1 || useradd -m -G docker -u "${u##*:}" "${u%%:*}"
  usermod -p '*' "${u%%:*}"
done
dockerd -H "unix://$B/d.sock" --data-root="$B/data" --exec-root="$B/x" --pidfile="$B/d.pid" \
  --bridge=none --iptables=false --ip-forward=false --ip-masq=false >"$B/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for _ in $(seq 60); do docker -H "unix://$B/d.sock" version >/dev/null 2>&1 && break; sleep 0.5; done
docker save debian:bookworm | docker -H "unix://$B/d.sock" load -q >/dev/null

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$B/keys" /run/sshd; chmod 755 "$B/keys"
ssh-keygen -q -t ed25519 -N "" -f "$B/host_key"
cat >"$B/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $B/host_key
PidFile $B/sshd.pid
AuthorizedKeysFile $B/keys/%u
StrictModes no
PasswordAuthentication no
PermitUserEnvironment yes
UsePAM no
MaxSessions 50
MaxStartups 50
EOF
/usr/sbin/sshd -D -f "$B/sshd_config" -E "$B/sshd.log" &
SSHD_PID=$!
H=/home/$DEV
rm -rf "$H/.ssh"; mkdir -p "$H/.ssh"
ssh-keygen -q -t ed25519 -N "" -f "$H/.ssh/id_ed25519"
printf 'Host 127.0.0.1\n  StrictHostKeyChecking accept-new\n' >"$H/.ssh/config"
chown -R "$DEV" "$H/.ssh"
echo "environment=\"DOCKER_HOST=unix://$B/d.sock\" $(cat "$H/.ssh/id_ed25519.pub")" >"$B/keys/robot"
mkdir -p /home/robot/benchws && chown robot /home/robot/benchws

WS="$B/ws"; mkdir -p "$WS"
printf 'version: 1\nname: benchremote\nextends: debian\nworkspace: {remote_path: /home/robot/benchws}\n' >"$WS/robodev.yaml"
chown -R "$DEV" "$WS"
HOST="ssh://robot@127.0.0.1:$PORT"
as_dev() { (cd "$WS" && runuser -u "$DEV" -- env HOME="$H" "$@"); }
as_dev "$R" -q --host "$HOST" up -d
CTR="$(as_dev "$R" --host "$HOST" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["container"])')"

median_ms() {
  "$@" >/dev/null 2>&1 || true
  for _ in $(seq "$N"); do
    local s e
    s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
  done | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'
}
ex=$(median_ms as_dev "$R" --host "$HOST" exec -- true)
dex=$(median_ms as_dev docker -H "$HOST" exec "$CTR" true)
as_dev "$R" -q --host "$HOST" down

# A profile that uses the robot's devices: its facts come from a probe container there.
mknod "$B/ttyUSB9" c 188 9 && chmod 666 "$B/ttyUSB9"
printf 'version: 1\nname: benchremote\nextends: debian\nworkspace: {remote_path: /home/robot/benchws}\ndevices: [{path: %s, as: /dev/lidar}]\n' "$B/ttyUSB9" >"$WS/robodev.yaml"
as_dev "$R" -q --host "$HOST" up -d
CTR="$(as_dev "$R" --host "$HOST" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["container"])')"
exd=$(median_ms as_dev "$R" --host "$HOST" exec -- true)
dexd=$(median_ms as_dev docker -H "$HOST" exec "$CTR" true)
as_dev "$R" -q --host "$HOST" down

# A synced workspace of 5,000 files: the first copy (inside `up -d`, as robodev reports it), then
# `robodev sync` after one file changed.
WS2="$B/ws2"; mkdir -p "$WS2"
python3 - "$WS2" <<'PY'
import os, sys
root = sys.argv[1]
for p in range(50):
    d = os.path.join(root, "src", f"pkg{p}", "src")
    os.makedirs(d, exist_ok=True)
    for f in range(100):
        with open(os.path.join(d, f"f{f}.cpp"), "w") as fh:
            fh.write(f"// {p}/{f}\n" + "int x;\n" * 40)
PY
printf 'version: 1\nname: benchremote\nextends: debian\nworkspace: {sync: true}\n' >"$WS2/robodev.yaml"
chown -R "$DEV" "$WS2"
as_dev2() { (cd "$WS2" && runuser -u "$DEV" -- env HOME="$H" "$@"); }
first=$(as_dev2 "$R" --host "$HOST" up -d 2>&1 | sed -n 's/.*synced the workspace.*: \([0-9]*\) file(s) sent (\([^)]*\)).* in \([0-9.]*\)s/\1 files, \2, \3 s/p')
resync() { echo "// $(date +%s%N)" >>"$WS2/src/pkg0/src/f0.cpp"; as_dev2 "$R" --host "$HOST" sync; }
rs=$(median_ms resync)
sent=$(resync 2>&1 | sed -n 's/.*: \([0-9]*\) file(s) sent.*/\1/p')
as_dev2 "$R" -q --host "$HOST" down --volumes >/dev/null 2>&1 || true

echo "robodev $("$R" --version | cut -d' ' -f2), Docker $(docker version -f '{{.Server.Version}}'), OpenSSH $(ssh -V 2>&1 | cut -d' ' -f1), $(nproc) cores, medians of $N runs, $(date -u +%F)"
echo
printf '| %-44s | %10s | %9s | %5s |\n' "operation (engine over ssh)" "robodev ms" "docker ms" "ratio"
printf '|%s|%s|%s|%s|\n' "----------------------------------------------" "------------" "-----------" "-------"
printf '| %-44s | %10s | %9s | %5s |\n' "exec -- true vs docker -H ssh://… exec true" "$ex" "$dex" \
  "$(awk -v a="$ex" -v b="$dex" 'BEGIN{printf "%.2f", a/b}')"
printf '| %-44s | %10s | %9s | %5s |\n' "the same, profile with a device of the robot" "$exd" "$dexd" \
  "$(awk -v a="$exd" -v b="$dexd" 'BEGIN{printf "%.2f", a/b}')"
printf '| %-44s | %10s | %9s | %5s |\n' "re-sync after one edit (5,000 files; $sent sent)" "$rs" "-" "-"
echo
echo "first sync inside up -d: $first"
