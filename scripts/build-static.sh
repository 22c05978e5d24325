#!/usr/bin/env bash
# Builds one static binary (x86_64 musl) that runs on hosts with no rsync,
# Python, sshd or even glibc: target/x86_64-unknown-linux-musl/dist/rrsync-rs
# (the stripped `dist` profile)
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target list --installed | grep -q x86_64-unknown-linux-musl \
    || rustup target add x86_64-unknown-linux-musl
command -v musl-gcc >/dev/null || { apt-get update -qq && apt-get install -y -qq musl-tools; }
CC_x86_64_unknown_linux_musl=musl-gcc cargo build --profile dist --target x86_64-unknown-linux-musl "$@"
bin=target/x86_64-unknown-linux-musl/dist/rrsync-rs
file "$bin" 2>/dev/null || true
"$bin" --version
