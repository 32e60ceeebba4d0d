#!/usr/bin/env bash
# The one command that runs every test: provisions a Docker engine and the debian:bookworm
# base image when none is reachable (fresh Debian machine), then runs the hermetic and the
# end-to-end suites. With CI=true the end-to-end suite fails, never skips, without an engine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/provision.sh
# The engine matrix: Docker 26.1 (graph store), Docker 26.1 (containerd store, min API 1.44) and
# Podman 5.4 from Debian trixie, and Podman 4.3 (the host's) with a store of its own, each with a
# second engine of its kind (teammate, robot).
ENGINES=(d26 d26-2 d26c d26c-2 p5 p5-2 p4 p4-2)
bash scripts/engines.sh up "${ENGINES[@]}"
export CI="${CI:-}"
# A fresh build without incremental data: a third of the disk, and no slower from clean.
[ "$CI" = true ] && export CARGO_INCREMENTAL=0
cargo build --quiet
bash scripts/prune-leftovers.sh target/debug/robodev "${ENGINES[@]}"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --lib --test hermetic
cargo test --test engine -- --test-threads=2
