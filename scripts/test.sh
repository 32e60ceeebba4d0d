#!/usr/bin/env bash
# The one command that runs every test: provisions a Docker engine and the debian:bookworm
# base image when none is reachable (fresh Debian machine), then runs the hermetic and the
# end-to-end suites. With CI=true the end-to-end suite fails, never skips, without an engine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/provision.sh
export CI="${CI:-}"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --lib --test hermetic
cargo test --test engine -- --test-threads=2
