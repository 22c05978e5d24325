#!/usr/bin/env bash
# Generates what a package installs besides the binary, from the binary
# itself (the same clap definitions as its --help):
#   target/assets/man/rrsync-rs.1, rrsync-rs-SUBCOMMAND.1
#   target/assets/completions/rrsync-rs.bash, _rrsync-rs, rrsync-rs.fish
# Usage: scripts/gen-assets.sh [BINARY]   (default: the dist build,
# ${CARGO_TARGET_DIR:-target}/dist/rrsync-rs). The output always goes to
# ./target/assets, where [package.metadata.deb] in Cargo.toml looks.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-${CARGO_TARGET_DIR:-target}/dist/rrsync-rs}
[ -x "$bin" ] || { echo "gen-assets: no binary at $bin (cargo build --profile dist)" >&2; exit 1; }
out=target/assets
rm -rf "$out"
mkdir -p "$out/man" "$out/completions"
"$bin" man --out "$out/man" >/dev/null
"$bin" completions bash > "$out/completions/rrsync-rs.bash"
"$bin" completions zsh > "$out/completions/_rrsync-rs"
"$bin" completions fish > "$out/completions/rrsync-rs.fish"
gzip -9n "$out"/man/*.1
ls "$out/man" "$out/completions"
