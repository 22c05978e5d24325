#!/usr/bin/env bash
# The main job in one command: build rrsync-rs, serve a demo directory over
# its built-in SSH server with a read-only key, pull it with the stock rsync
# client, show a push being refused and the audit log, and print the
# command to try yourself.
# Needs: cargo, and rsync + ssh clients (installed with apt-get if missing).
#
# Variables:
#   DEMO_PORT  the port serve listens on, on 127.0.0.1 (default 2222)
#   DEMO_DIR   the scratch directory, emptied first (default /tmp/rrsync-demo):
#              srv/ (served), keys/, copy/, serve.log, audit.jsonl
# Run from a terminal, serve keeps running after the demo until Ctrl-C, so
# the printed command works; otherwise it stops when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v rsync >/dev/null || need+=(rsync)
command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || need+=(openssh-client)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/rrsync-rs
DEMO=${DEMO_DIR:-/tmp/rrsync-demo}
PORT=${DEMO_PORT:-2222}
rm -rf "$DEMO" && mkdir -p "$DEMO/srv/photos/2026" "$DEMO/keys"
echo "hello from rrsync-rs" > "$DEMO/srv/photos/README.txt"
head -c 1048576 /dev/urandom > "$DEMO/srv/photos/2026/img-0001.raw"
ssh-keygen -q -t ed25519 -N '' -C demo@client -f "$DEMO/keys/client"
# The key line says what this key may do: read-only, beneath srv.
"$BIN" authorize -ro "$DEMO/srv" "$DEMO/keys/client.pub" --append "$DEMO/keys/authorized_keys" \
    >/dev/null 2>&1
"$BIN" serve --listen "127.0.0.1:$PORT" --authorized-keys "$DEMO/keys/authorized_keys" \
    --host-key "$DEMO/keys/host_key" --audit "$DEMO/audit.jsonl" 2>"$DEMO/serve.log" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
# Wait until serve listens; if it exits or stays silent, say why and stop.
for _ in $(seq 100); do
    grep -q "listening on" "$DEMO/serve.log" 2>/dev/null && break
    kill -0 $SERVE 2>/dev/null || break
    sleep 0.1
done
if ! grep -q "listening on" "$DEMO/serve.log" 2>/dev/null; then
    echo "== rrsync-rs serve did not start on 127.0.0.1:$PORT; its log ($DEMO/serve.log):" >&2
    cat "$DEMO/serve.log" >&2
    echo "(another port: DEMO_PORT=2299 bash scripts/demo.sh)" >&2
    exit 1
fi
SSH="ssh -p $PORT -i $DEMO/keys/client -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
echo "== authorized_keys line:"; cat "$DEMO/keys/authorized_keys"
echo "== pulling with stock rsync through rrsync-rs serve:"
rsync -av -e "$SSH" "demo@127.0.0.1:photos/" "$DEMO/copy/"
echo "== a push is refused by this read-only key:"
rsync -av -e "$SSH" "$DEMO/copy/" "demo@127.0.0.1:photos/" || true
# The connection's line is written once serve has closed it.
for _ in $(seq 50); do
    [ "$(wc -l < "$DEMO/audit.jsonl" 2>/dev/null || echo 0)" -ge 2 ] && break
    sleep 0.1
done
echo "== audit log ($DEMO/audit.jsonl), one line per connection:"; cat "$DEMO/audit.jsonl"
echo "== serve's log ($DEMO/serve.log):"; cat "$DEMO/serve.log"
echo
if [ -t 0 ] && [ -t 1 ]; then
    echo "Try it yourself; serve keeps running until Ctrl-C:"
    echo "  rsync -av -e \"$SSH\" demo@127.0.0.1:photos/ /tmp/my-copy/"
    trap 'echo; echo "stopping serve"; kill $SERVE 2>/dev/null || true; exit 0' INT TERM
    wait $SERVE
else
    echo "Try it yourself (run this script from a terminal to keep serve running):"
    echo "  rsync -av -e \"$SSH\" demo@127.0.0.1:photos/ /tmp/my-copy/"
fi
