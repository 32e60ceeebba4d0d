#!/usr/bin/env bash
# Container engines for the end-to-end test matrix: newer ones from Debian trixie on a bookworm
# host, and the host's own Podman:
#   d26   Docker 26.1, classic graph-driver store (overlay2)
#   d26c  Docker 26.1, containerd image store, min API 1.44 (as Docker 29 behaves)
#   p5    Podman 5.4 (Docker-compatible API service)
#   p4    Podman 4.3, the host's own (bookworm's `podman`, its /etc/containers config), with a
#         store of its own (never the default /var/lib/containers)
# Any of them with a suffix (d26c-2, p5-robot, ...) is a second, independent instance of that kind.
#
#   bash scripts/engines.sh up     [NAME ...]   start (default: d26 d26c p5), copy debian:bookworm in
#   bash scripts/engines.sh down   [NAME ...]   stop what `up` started (default: every running one)
#   bash scripts/engines.sh status [NAME ...]   one line per engine, starts nothing
#   bash scripts/engines.sh env    NAME         prints DOCKER_HOST=unix:///run/robodev-engines/NAME.sock
#   bash scripts/engines.sh cli    NAME ARGS... the engine's own client: docker 26.1 / podman --remote
#
# How: a trixie root made once with mmdebstrap; each engine runs (setsid) in its own mount
# namespace pivoted into that root, with /tmp, /home, its data directory, the sockets directory and
# the CDI spec dirs (/etc/cdi, /run/cdi) bind-mounted from the host at the same paths. A privileged
# container cannot run on this machine kind and a plain chroot breaks exec's working directory
# (see ../shared/machine.md). Files and directories the host makes under /tmp and /home later are
# seen by the engines; mounts made there after an engine started are not (the host's / is private).
# p4 needs no trixie root: the host's podman runs in a mount namespace of its own with no pivot
# (its container mounts go when it goes), with --root/--runroot/--tmpdir/--network-config-dir of
# its own and the host's containers.conf (which pins the ulimits this machine allows).
# Idempotent: with everything up, `up` only checks (about a second). Exits non-zero with a message
# when something cannot start. Needs root, and the host's dockerd with debian:bookworm (provision.sh).
# Environment: ROBODEV_ENGINE_TIMEOUT (start timeout, 60 s), ROBODEV_D26_STORAGE_DRIVER (overlay2;
# vfs also works). Logs: /var/log/robodev-NAME.log; data: /var/lib/robodev-engines/NAME
# (p4: state under /run/robodev-NAME too).
set -euo pipefail

CACHE=/var/cache/robodev-test
ROOT=$CACHE/trixie-root
ROOT_MARKER=$ROOT/.robodev-root-complete
ROOT_PKGS=docker.io,docker-cli,containerd,runc,tini,podman,crun,conmon,catatonit,fuse-overlayfs,uidmap,ca-certificates,curl,git
SOCKDIR=/run/robodev-engines
DATA=/var/lib/robodev-engines
BASE_IMAGE=debian:bookworm
API=v1.45
START_TIMEOUT=${ROBODEV_ENGINE_TIMEOUT:-60}
DEFAULT_NAMES=(d26 d26c p5)
SELF=$(readlink -f "$0")

log() { printf '[engines] %s\n' "$*" >&2; }
die() { printf '[engines] ERROR: %s\n' "$*" >&2; exit 1; }

kind_of() {  # d26 | d26c | p5 | p4, or fails
  case "$1" in
    d26|d26-*) echo d26 ;;
    d26c|d26c-*) echo d26c ;;
    p5|p5-*) echo p5 ;;
    p4|p4-*) echo p4 ;;
    *) return 1 ;;
  esac
}
is_podman() { case "$1" in p5|p4) return 0 ;; *) return 1 ;; esac; }  # is_podman KIND
check_name() {
  [[ "$1" =~ ^(d26|d26c|p5|p4)(-[A-Za-z0-9_]{1,16})?$ ]] \
    || die "unknown engine '$1' (expected d26, d26c, p5 or p4, optionally with a suffix like d26c-2)"
}
sock_of() { echo "$SOCKDIR/$1.sock"; }
pidfile_of() { echo "$SOCKDIR/$1.pid"; }
log_of() { echo "/var/log/robodev-$1.log"; }

# curl against an engine socket: api NAME PATH [curl args...]
api() { local n=$1 p=$2; shift 2; curl -s --max-time "${CURL_TIMEOUT:-10}" --unix-socket "$(sock_of "$n")" "$@" "http://x$p"; }
api_code() { local n=$1 p=$2; shift 2; api "$n" "$p" -o /dev/null -w '%{http_code}' "$@" || true; }
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

alive() {  # a process that exists and is not a zombie (a killed engine waits for init to reap it)
  local st
  st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
engine_pid() {  # pid of a live engine started by us, or fails
  local f pid comm
  f=$(pidfile_of "$1")
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null) || return 1
  [ -n "$pid" ] && alive "$pid" || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  case "$comm" in dockerd|podman) echo "$pid" ;; *) return 1 ;; esac
}
answers() { [ "$(api_code "$1" /_ping --max-time 3)" = 200 ]; }

# ---------------------------------------------------------------------------------------------
# The trixie root.
ensure_root() {
  grep -qxF "packages=$ROOT_PKGS" "$ROOT_MARKER" 2>/dev/null && return 0
  mkdir -p "$CACHE"
  exec 8>"$CACHE/.trixie-root.lock"
  flock -w 600 8 || die "another engines.sh is making the trixie root (lock $CACHE/.trixie-root.lock)"
  if [ ! -f "$ROOT_MARKER" ]; then
    command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (run scripts/provision.sh)"
    # A root without its marker is a half-made one; nothing can be running from it.
    [ -e "$ROOT" ] && { log "removing incomplete $ROOT"; rm -rf --one-file-system "$ROOT"; }
    rm -rf --one-file-system "$ROOT.tmp"
    log "making the trixie root $ROOT with mmdebstrap (about a minute)"
    mmdebstrap --quiet --variant=apt --include="$ROOT_PKGS" trixie "$ROOT.tmp" \
      >"$CACHE/trixie-root.log" 2>&1 \
      || { tail -20 "$CACHE/trixie-root.log" >&2; die "mmdebstrap trixie failed (log: $CACHE/trixie-root.log)"; }
    for b in usr/sbin/dockerd usr/bin/containerd usr/bin/podman usr/sbin/runc usr/bin/conmon; do
      [ -x "$ROOT.tmp/$b" ] || die "the trixie root lacks /$b"
    done
    mkdir -p "$ROOT.tmp/.oldroot" "$ROOT.tmp/var/lib/robodev-engines"
    mv "$ROOT.tmp" "$ROOT"
    printf 'made=%s\npackages=%s\n' "$(date -u +%FT%TZ)" "$ROOT_PKGS" >"$ROOT_MARKER"
  elif ! grep -qxF "packages=$ROOT_PKGS" "$ROOT_MARKER"; then
    # Made with another package list: add what is missing in place (engines may be running from
    # it, so it is never remade while it exists; remove it by hand with every engine down).
    log "adding packages to the trixie root: ${ROOT_PKGS//,/ }"
    unshare -m --propagation private sh -c '
      mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" &&
      exec chroot "$1" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends $2 && apt-get clean && rm -rf /var/lib/apt/lists/*"
    ' x "$ROOT" "${ROOT_PKGS//,/ }" >"$CACHE/trixie-root.log" 2>&1 \
      || { tail -20 "$CACHE/trixie-root.log" >&2; die "apt-get install in the trixie root failed (log: $CACHE/trixie-root.log)"; }
    printf 'made=%s\npackages=%s\n' "$(date -u +%FT%TZ)" "$ROOT_PKGS" >"$ROOT_MARKER"
  fi
  exec 8>&-
}

# ---------------------------------------------------------------------------------------------
# Runs inside `unshare -m`: bind what the engine needs, pivot into the trixie root, exec the engine.
# The pid written here is the engine's: everything below execs.
# MODE engine: NAME's data directory, pidfile and mount-namespace id; MODE cli: a client command,
# run in the working directory when that is under /tmp or /home.
ns_enter() {
  local mode=$1 name=$2 cwd=/; shift 2
  mount --bind "$ROOT" "$ROOT"
  mount -t proc proc "$ROOT/proc"
  mount --rbind /sys "$ROOT/sys"
  mount --rbind /dev "$ROOT/dev"
  mount -t tmpfs -o mode=755 tmpfs "$ROOT/run"
  mkdir -p "$ROOT/run/robodev-engines" "$ROOT/.oldroot"
  mount --bind "$SOCKDIR" "$ROOT/run/robodev-engines"
  mount --rbind /tmp "$ROOT/tmp"
  if [ -d /home ]; then mkdir -p "$ROOT/home"; mount --rbind /home "$ROOT/home"; fi
  # CDI specs: the host's, as for an engine installed on the host (CDISpecDirs /etc/cdi, /var/run/cdi).
  mkdir -p /etc/cdi /run/cdi "$ROOT/etc/cdi" "$ROOT/run/cdi"
  mount --bind /etc/cdi "$ROOT/etc/cdi"
  mount --bind /run/cdi "$ROOT/run/cdi"
  if [ "$mode" = engine ]; then
    mkdir -p "$ROOT/var/lib/robodev-engines/$name"
    mount --bind "$DATA/$name" "$ROOT/var/lib/robodev-engines/$name"
    # Podman: no bridge networks on this machine kind (they would take a private-range address).
    # Its network helper is replaced by one that refuses `setup`: host networking is the default
    # (containers.conf) and an explicit bridge request fails with a clear message.
    if [ "$(kind_of "$name")" = p5 ]; then
      mount --bind "$DATA/$name/netavark-disabled" "$ROOT/usr/lib/podman/netavark"
    fi
    echo $$ >"$(pidfile_of "$name")"
    readlink /proc/self/ns/mnt >"$SOCKDIR/$name.mntns"
  else
    case "$PWD/" in /tmp/*|/home/*) cwd=$PWD ;; esac
  fi
  cd "$ROOT"
  pivot_root . .oldroot
  exec chroot . /bin/sh -c 'umount -l /.oldroot && cd "$0" && exec "$@"' "$cwd" "$@"
}

# Runs inside `unshare -m` for an engine of the host's own (p4): no pivot, the host's files as
# they are; only its pidfile and mount-namespace id, then exec the engine (the pid is the engine's).
host_enter() {
  local name=$1; shift
  echo $$ >"$(pidfile_of "$name")"
  readlink /proc/self/ns/mnt >"$SOCKDIR/$name.mntns"
  cd /
  exec "$@"
}

# Podman treats 127.0.0.1:PORT registries as HTTPS unless registries.conf marks them insecure.
write_registries() {
  local host port
  {
    echo 'unqualified-search-registries = ["docker.io"]'
    echo 'short-name-mode = "permissive"'
    for host in localhost 127.0.0.1; do
      for port in $(seq 5000 5099); do
        printf '\n[[registry]]\nlocation = "%s:%s"\ninsecure = true\n' "$host" "$port"
      done
    done
  } >"$1"
}

write_configs() {
  local name=$1 kind=$2 d=$DATA/$1
  case "$kind" in
    d26)
      printf '{\n  "storage-driver": "%s",\n  "features": {"cdi": true}\n}\n' \
        "${ROBODEV_D26_STORAGE_DRIVER:-overlay2}" >"$d/daemon.json" ;;
    d26c)
      printf '{\n  "features": {"containerd-snapshotter": true, "cdi": true}\n}\n' >"$d/daemon.json" ;;
    p5)
      local nofile nproc
      nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
      nproc=$(ulimit -Hu); [ "$nproc" = unlimited ] && nproc=1048576
      mkdir -p "$d/storage" "$d/tmp"
      cat >"$d/containers.conf" <<EOF
# Written by scripts/engines.sh for engine $name.
[containers]
cgroupns = "host"
netns = "host"
log_driver = "k8s-file"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
# Debian's default sets net.ipv4.ping_group_range, which a host-network container cannot take.
default_sysctls = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "/run/robodev-$name/events.log"
tmp_dir = "/run/robodev-$name/libpod"
image_copy_tmp_dir = "$d/tmp"
EOF
      cat >"$d/storage.conf" <<EOF
[storage]
driver = "overlay"
runroot = "/run/robodev-$name/storage"
graphroot = "$d/storage"
EOF
      write_registries "$d/registries.conf"
      cat >"$d/netavark-disabled" <<'STUB'
#!/bin/sh
# Bind-mounted over netavark by scripts/engines.sh: this machine kind allows no bridge networks.
for a in "$@"; do
  case "$a" in
    setup)
      echo '{"error": "bridge networks are disabled on this engine (robodev engines.sh): use network_mode host"}'
      exit 1 ;;
    --version|-V) echo "netavark 0.0.0 (disabled by robodev engines.sh)"; exit 0 ;;
  esac
done
exit 0
STUB
      chmod 755 "$d/netavark-disabled"
      ;;
    p4)
      # The host's containers.conf as it is (ulimits pinned for this machine, cgroupfs, runc,
      # file events); only the store, the state and the network definitions are this engine's.
      mkdir -p "$d/storage" "$d/networks"
      write_registries "$d/registries.conf"
      ;;
  esac
}

start_engine() {
  local name=$1 kind=$2 d=$DATA/$1 sock; sock=$(sock_of "$1")
  local gid; gid=$(getent group docker | cut -d: -f3 || echo 0)
  mkdir -p "$d" "$SOCKDIR"
  chmod 755 "$SOCKDIR"
  write_configs "$name" "$kind"
  rm -f "$sock" "$(pidfile_of "$name")" "$SOCKDIR/$name.mntns"
  local -a cmd env=()
  case "$kind" in
    d26|d26c)
      cmd=(dockerd -H "unix://$sock" --group "$gid"
        --data-root "$d/docker" --exec-root "/run/robodev-$name/docker"
        --pidfile "/run/robodev-$name/dockerd.pid" --config-file "$d/daemon.json"
        --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/robodev-$name"
        --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false
        --userland-proxy=false)
      [ "$kind" = d26c ] && env=(DOCKER_MIN_API_VERSION=1.44)
      ;;
    p5)
      cmd=(podman --log-level=info system service --time=0 "unix://$sock")
      env=(CONTAINERS_CONF_OVERRIDE="$d/containers.conf" CONTAINERS_STORAGE_CONF="$d/storage.conf"
        CONTAINERS_REGISTRIES_CONF="$d/registries.conf")
      ;;
    p4)
      # /run/robodev-NAME goes with `down` (as a reboot would): the next start refreshes the state.
      cmd=(podman --log-level=info --root "$d/storage" --runroot "/run/robodev-$name/storage"
        --storage-driver overlay --tmpdir "/run/robodev-$name/libpod"
        --network-config-dir "$d/networks" --cgroup-manager cgroupfs --events-backend file
        system service --time=0 "unix://$sock")
      env=(CONTAINERS_REGISTRIES_CONF="$d/registries.conf")
      ;;
  esac
  local enter=(__enter engine "$name")
  # No engine of this name runs: a stale state directory would skip Podman's refresh.
  [ "$kind" = p4 ] && { rm -rf --one-file-system "/run/robodev-$name"; enter=(__host "$name"); }
  log "starting $name (log: $(log_of "$name"))"
  {
    echo "=== $(date -u +%FT%TZ) starting $name: ${env[*]} ${cmd[*]}"
  } >>"$(log_of "$name")"
  env "${env[@]}" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    setsid unshare -m --propagation private bash "$SELF" "${enter[@]}" "${cmd[@]}" \
    >>"$(log_of "$name")" 2>&1 </dev/null 7>&- 8>&- 9>&- &
}

start_failed() {  # print the log's end, clean up what was started, fail
  local name=$1 msg=$2
  tail -12 "$(log_of "$name")" >&2 || true
  down_one "$name" >/dev/null 2>&1 || true
  die "$msg (log: $(log_of "$name"))"
}

wait_engine() {
  local name=$1 sock; sock=$(sock_of "$1")
  local gid; gid=$(getent group docker | cut -d: -f3 || true)
  local i
  for ((i = 0; i < START_TIMEOUT * 2; i++)); do
    if [ -S "$sock" ] && answers "$name"; then
      [ -n "$gid" ] && chgrp "$gid" "$sock"
      chmod 660 "$sock"
      return 0
    fi
    if ((i > 4)) && ! engine_pid "$name" >/dev/null; then
      start_failed "$name" "$name exited while starting"
    fi
    sleep 0.5
  done
  start_failed "$name" "$name did not answer on $sock within ${START_TIMEOUT}s"
}

# The host's debian:bookworm, saved once per image id.
base_tar() {
  local id tar
  docker version >/dev/null 2>&1 || die "the host's docker engine does not answer (run scripts/provision.sh)"
  id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE" 2>/dev/null) \
    || die "the host's engine has no $BASE_IMAGE (run scripts/provision.sh)"
  tar="$CACHE/images/${BASE_IMAGE//[:\/]/_}-${id#sha256:}.tar"
  if [ ! -s "$tar" ]; then
    mkdir -p "$CACHE/images"
    exec 7>"$CACHE/images/.lock"
    flock -w 300 7 || die "another engines.sh is saving $BASE_IMAGE (lock $CACHE/images/.lock)"
    if [ ! -s "$tar" ]; then
      rm -f "$CACHE/images/${BASE_IMAGE//[:\/]/_}-"*.tar
      docker save "$BASE_IMAGE" -o "$tar.part" && mv "$tar.part" "$tar" \
        || die "docker save $BASE_IMAGE failed"
    fi
    exec 7>&-
  fi
  echo "$tar"
}

ensure_image() {
  local name=$1 out tar
  [ "$(api_code "$name" "/$API/images/$BASE_IMAGE/json")" = 200 ] && return 0
  tar=$(base_tar)
  log "loading $BASE_IMAGE into $name"
  out=$(CURL_TIMEOUT=300 api "$name" "/$API/images/load" -X POST -w '\nHTTP %{http_code}' \
    -H 'Content-Type: application/x-tar' --data-binary "@$tar") || true
  case "$out" in
    *'"error'*|*'"message"'*) die "loading $BASE_IMAGE into $name failed: $out" ;;
    *'HTTP 200') ;;
    *) die "loading $BASE_IMAGE into $name failed: $out" ;;
  esac
  [ "$(api_code "$name" "/$API/images/$BASE_IMAGE/json")" = 200 ] \
    || die "$name does not list $BASE_IMAGE after loading it: $out"
}

describe() {  # one line; fails when the engine does not behave as its kind should
  local name=$1 kind=$2 v info img old="-"
  v=$(api "$name" "/$API/version") || die "$name: /$API/version failed"
  info=$(api "$name" "/$API/info") || die "$name: /$API/info failed"
  img=$(api_code "$name" "/$API/images/$BASE_IMAGE/json")
  [ "$kind" = d26c ] && old=$(api_code "$name" /v1.41/version)
  python3 - "$name" "$kind" "$(sock_of "$name")" "$BASE_IMAGE" "$img" "$old" "$v" "$info" <<'PY'
import json, sys
name, kind, sock, base, img, old, v, info = sys.argv[1:]
v, info = json.loads(v), json.loads(info)
driver = info.get("Driver", "?")
line = "%-8s %-34s server=%s api=%s min-api=%s driver=%s %s=%s" % (
    name, sock, v.get("Version", "?"), v.get("ApiVersion", "?"), v.get("MinAPIVersion", "?"),
    driver, base, "ok" if img == "200" else "MISSING")
errors = []
if img != "200":
    errors.append("%s is not in the engine" % base)
if kind == "d26c":
    snap = driver == "overlayfs" or "io.containerd.snapshotter" in json.dumps(info.get("DriverStatus"))
    line += " v1.41=%s containerd-snapshotter=%s" % (old, "yes" if snap else "no")
    if old != "400":
        errors.append("/v1.41/version answered %s, expected 400 (min API 1.44 not enforced)" % old)
    if not snap:
        errors.append("/info shows no containerd snapshotter (Driver=%s)" % driver)
print(line)
for e in errors:
    print("[engines] ERROR: %s: %s" % (name, e), file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

up_one() {
  local name=$1 kind; kind=$(kind_of "$1")
  mkdir -p "$SOCKDIR" "$DATA"
  mkdir -p "$SOCKDIR/.locks"
  exec 9>"$SOCKDIR/.locks/$name"
  flock -w 300 9 || die "another engines.sh holds the lock for $name ($SOCKDIR/.locks/$name)"
  if engine_pid "$name" >/dev/null; then
    if ! answers "$name"; then wait_engine "$name"; fi
  else
    if [ "$kind" = p4 ]; then
      command -v podman >/dev/null || die "the host has no podman (run scripts/provision.sh)"
    else
      ensure_root
    fi
    # A dead engine's leftovers (helpers, containers, a stale socket) go first.
    [ -f "$(pidfile_of "$name")" ] && down_one "$name"
    start_engine "$name" "$kind"
    wait_engine "$name"
  fi
  ensure_image "$name"
  exec 9>&-
  describe "$name" "$kind"
}

# Stop NAME and whatever it left: also cleans up after an engine that died or was killed.
down_one() {
  local name=$1 kind pid ns i p cg; kind=$(kind_of "$1")
  ns=$(cat "$SOCKDIR/$name.mntns" 2>/dev/null || true)
  # Never this shell's own namespace (the host's): its helpers would be the host's.
  [ "$ns" = "$(readlink /proc/self/ns/mnt)" ] && ns=
  if pid=$(engine_pid "$name"); then
    if answers "$name"; then
      # Kill its running containers first: Podman's outlive its service, and a stopping dockerd
      # would give each one its stop timeout (10 s).
      local ids c
      ids=$(api "$name" "/$API/containers/json" | json '"\n".join(c["Id"] for c in d)' || true)
      for c in $ids; do api_code "$name" "/$API/containers/$c/kill" -X POST --max-time 20 >/dev/null; done
    fi
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do alive "$pid" || break; sleep 0.5; done
    alive "$pid" && { log "$name did not stop in 30 s: killing it"; kill -KILL "$pid" 2>/dev/null || true; sleep 1; }
  fi
  # Engine helpers left in its mount namespace (a managed containerd, shims, conmon). A dead
  # engine's namespace id can have been reused by another engine's new namespace (engines killed
  # without `down`, then started again): a process is this engine's only when its command line
  # also names this engine's own paths.
  if [ -n "$ns" ]; then
    for p in /proc/[0-9]*; do
      [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] || continue
      case "$(cat "$p/comm" 2>/dev/null)" in
        dockerd|containerd*|conmon|podman|runc|docker-proxy) ;;
        *) continue ;;
      esac
      case "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" in
        *"/robodev-engines/$name/"*|*"/robodev-engines/$name.sock"*|*"/robodev-$name/"*)
          kill -KILL "${p#/proc/}" 2>/dev/null || true ;;
      esac
    done
  fi
  # Containers left by a killed engine, found by their cgroup: Docker's sit under its
  # --cgroup-parent, Podman's (cgroupfs) under /libpod_parent/libpod-ID.
  local -a cgs=()
  if is_podman "$kind"; then
    local id
    for id in $(python3 -c 'import json,sys; print(" ".join(c["id"] for c in json.load(open(sys.argv[1]))))' \
        "$DATA/$name/storage/overlay-containers/containers.json" 2>/dev/null); do
      cgs+=(/sys/fs/cgroup/pids/libpod_parent/libpod-"$id")
    done
  else
    cgs=(/sys/fs/cgroup/pids/robodev-"$name"/*)
  fi
  for cg in "${cgs[@]}"; do
    [ -f "$cg/cgroup.procs" ] && xargs -r kill -KILL <"$cg/cgroup.procs" 2>/dev/null || true
  done
  # Its (now empty) cgroups.
  if ! is_podman "$kind"; then
    sleep 0.2
    for cg in /sys/fs/cgroup/*/robodev-"$name"; do
      [ -d "$cg" ] || continue
      find "$cg" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
      rmdir "$cg" 2>/dev/null || true
    done
  fi
  # p4's state on the host (p5's is in its namespace's /run, gone with it).
  [ "$kind" = p4 ] && rm -rf --one-file-system "/run/robodev-$name"
  rm -f "$(sock_of "$name")" "$(pidfile_of "$name")" "$SOCKDIR/$name.mntns"
}

down_locked() {
  mkdir -p "$SOCKDIR/.locks"
  exec 9>"$SOCKDIR/.locks/$1"
  flock -w 300 9 || die "another engines.sh holds the lock for $1 ($SOCKDIR/.locks/$1)"
  down_one "$1"
  exec 9>&-
}

running_names() {
  local f n
  for f in "$SOCKDIR"/*.pid; do
    [ -f "$f" ] || continue
    n=$(basename "$f" .pid)
    kind_of "$n" >/dev/null && echo "$n"
  done
}

main() {
  local cmd=${1:-up}; shift || true
  case "$cmd" in
    __enter) ns_enter "$@" ;;
    __host) host_enter "$@" ;;
    cli)
      # The engine's own client: the trixie root's docker 26.1 CLI or podman 5.4 --remote, the
      # host's podman 4.3 --remote for p4.
      [ $# -ge 1 ] || die "usage: $0 cli NAME [ARGS...]"
      check_name "$1"; [ "$(id -u)" = 0 ] || die "run as root"
      local n=$1; shift
      if [ "$(kind_of "$n")" = p4 ]; then
        exec podman --remote --url "unix://$(sock_of "$n")" "$@"
      fi
      [ -f "$ROOT_MARKER" ] || die "no trixie root yet (run: $0 up)"
      if [ "$(kind_of "$n")" = p5 ]; then
        exec unshare -m --propagation private bash "$SELF" __enter cli "$n" \
          podman --remote --url "unix://$(sock_of "$n")" "$@"
      fi
      DOCKER_HOST="unix://$(sock_of "$n")" exec unshare -m --propagation private \
        bash "$SELF" __enter cli "$n" docker "$@" ;;
    up)
      [ "$(id -u)" = 0 ] || die "run as root"
      local -a names=("$@"); [ ${#names[@]} -gt 0 ] || names=("${DEFAULT_NAMES[@]}")
      local n; for n in "${names[@]}"; do check_name "$n"; done
      for n in "${names[@]}"; do up_one "$n"; done
      # Every one still answers once all are up (one start must never stop another).
      for n in "${names[@]}"; do
        answers "$n" || die "$n stopped answering after it started (log: $(log_of "$n"))"
      done ;;
    down)
      [ "$(id -u)" = 0 ] || die "run as root"
      local -a names=("$@"); [ ${#names[@]} -gt 0 ] || mapfile -t names < <(running_names)
      local n; for n in "${names[@]}"; do check_name "$n"; down_locked "$n"; done ;;
    status)
      local -a names=("$@"); [ ${#names[@]} -gt 0 ] || names=("${DEFAULT_NAMES[@]}")
      local n rc=0
      for n in "${names[@]}"; do
        check_name "$n"
        if answers "$n"; then (describe "$n" "$(kind_of "$n")") || rc=1
        else printf '%-8s %-34s down\n' "$n" "$(sock_of "$n")"; rc=1; fi
      done
      return $rc ;;
    env)
      [ $# = 1 ] || die "usage: $0 env NAME"
      check_name "$1"
      echo "DOCKER_HOST=unix://$(sock_of "$1")" ;;
    -h|--help|help) sed -n '2,/^[^#]/{/^#/p}' "$SELF" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$cmd' (up, down, status, env, cli)" ;;
  esac
}

main "$@"
