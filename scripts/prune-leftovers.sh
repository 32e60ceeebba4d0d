#!/usr/bin/env bash
# What earlier runs of the suite left on this machine's engines, removed before a run: the images
# of test workspaces that no longer exist (by robodev's own `clean --all`, which keeps whatever a
# container or an existing workspace still uses), dangling images and BuildKit's build cache.
# None of it is needed, but it makes the next run faster (images and layers it finds, apt's
# downloads in the cache mounts): so it is pruned only when the disk runs short, below
# ROBODEV_PRUNE_BELOW_GIB free (30 GiB; a whole run takes about 18). Left alone it fills the disk
# of a machine that runs the suite again and again (as CI's did: "no space left on device").
#   bash scripts/prune-leftovers.sh ROBODEV_BINARY ENGINE_NAME...
# The matrix engines (scripts/engines.sh) are the suite's own and are always pruned; the host's
# engine only with CI=true, as a developer's own images and cache live there.
set -euo pipefail
cd "$(dirname "$0")/.."
robodev=$(readlink -f "$1"); shift
log() { printf '[prune] %s\n' "$*" >&2; }
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT

clean() {  # clean LABEL [ENGINE-URL]: robodev clean --all from an empty folder (no workspace)
  local label=$1 url=${2:-} out
  if ! out=$(cd "$empty" && "$robodev" -q ${url:+-H "$url"} clean --all); then
    log "$label: robodev clean --all failed"; return 1
  fi
  log "$label: $(grep -c '^removed' <<<"$out" || true) image(s) of test workspaces that are gone"
}
quietly() {  # quietly LABEL COMMAND...: its output only when it fails
  local label=$1 out; shift
  out=$("$@" 2>&1) || { log "$label: $* failed: $out"; return 1; }
}

before=$(df -Pk / | awk 'NR==2 {print $4}')
below=${ROBODEV_PRUNE_BELOW_GIB:-30}
if [ $(( before / 1048576 )) -ge "$below" ]; then
  log "$(( before / 1048576 )) GiB free: earlier runs' images and caches are kept (pruned below $below GiB)"
  exit 0
fi
if [ "${CI:-}" = true ]; then
  clean host
  # What the tests name themselves: the Dev Containers CLI's images of test workspaces, tags of
  # the tests' registries (gone with their ports) and their tiny images.
  mapfile -t named < <(docker images --format '{{.Repository}}:{{.Tag}}' \
    | grep -E '^(vsc-robodev-e2e-|localhost:[0-9]+/|robodev-e2e-)' | grep -v ':<none>$' || true)
  [ ${#named[@]} = 0 ] || quietly host docker rmi -f "${named[@]}"
  log "host: ${#named[@]} image(s) the tests named"
  quietly host docker image prune -f
  quietly host docker builder prune -af
fi
for name in "$@"; do
  clean "$name" "unix:///run/robodev-engines/$name.sock"
  case "$name" in
    d26*) quietly "$name" bash scripts/engines.sh cli "$name" builder prune -af ;;
  esac
  quietly "$name" bash scripts/engines.sh cli "$name" image prune -f
done
after=$(df -Pk / | awk 'NR==2 {print $4}')
log "freed $(( (after - before) / 1048576 )) GiB; $(( after / 1048576 )) GiB free"
