#!/usr/bin/env bash
# Builds the Debian package (target/debian/rrsync-rs_VERSION-1_ARCH.deb):
# the dist binary in /usr/bin, the manual pages, bash/zsh/fish completions,
# the systemd unit (installed, not enabled) and the docs; see
# [package.metadata.deb] in Cargo.toml. Needs cargo-deb
# (`cargo install cargo-deb`). List the result with `dpkg -c`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null || { echo "package-deb: needs cargo-deb (cargo install cargo-deb)" >&2; exit 1; }
cargo build --locked --profile dist
scripts/gen-assets.sh >/dev/null
cargo deb --no-build --profile dist "$@"
