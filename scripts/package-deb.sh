#!/usr/bin/env bash
# Builds the Debian package (target/debian/rrsync-rs_VERSION-1_ARCH.deb):
# the binary in /usr/bin, the manual pages, bash/zsh/fish completions,
# the systemd unit (installed, not enabled) and the docs; see
# [package.metadata.deb] in Cargo.toml. Needs cargo-deb
# (`cargo install cargo-deb`).
#
#   scripts/package-deb.sh            # the stripped dist build (what ships)
#   scripts/package-deb.sh --check    # CI: package the release build that
#                                     # is already there, then list the
#                                     # package and check what it holds
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null || { echo "package-deb: needs cargo-deb (cargo install cargo-deb)" >&2; exit 1; }
profile=dist
check=false
if [ "${1:-}" = "--check" ]; then
    profile=release
    check=true
    shift
else
    cargo build --locked --profile dist
fi
target=${CARGO_TARGET_DIR:-target}
scripts/gen-assets.sh "$target/$profile/rrsync-rs" >/dev/null
fast=(); $check && fast=(--fast)
deb=$(cargo deb --no-build --no-strip "${fast[@]}" --profile "$profile" "$@" | tail -1)
echo "$deb"
$check || exit 0
listing=$(dpkg -c "$deb")
echo "$listing"
for want in ./usr/bin/rrsync-rs \
    ./usr/share/man/man1/rrsync-rs.1.gz ./usr/share/man/man1/rrsync-rs-serve.1.gz \
    ./usr/share/man/man1/rrsync-rs-prune.1.gz \
    ./usr/share/bash-completion/completions/rrsync-rs \
    ./usr/share/zsh/vendor-completions/_rrsync-rs \
    ./usr/share/fish/vendor_completions.d/rrsync-rs.fish \
    ./usr/lib/systemd/system/rrsync-rs.service \
    ./usr/share/doc/rrsync-rs/README.md; do
    grep -q " $want\$" <<<"$listing" || { echo "package-deb: $want is missing from $deb" >&2; exit 1; }
done
echo "package-deb: the package holds the binary, the manual pages, the completions, the unit and the docs"
