#!/usr/bin/env bash
# The main job in one command: build rrsync-rs, serve a demo directory over
# its built-in SSH server on 127.0.0.1:2222 with a read-only key, pull it
# with the stock rsync client, and print the command to try yourself.
# Needs: cargo, and rsync + ssh clients (installed with apt-get if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v rsync >/dev/null || need+=(rsync)
command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || need+=(openssh-client)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi
cargo build --release --quiet
BIN=$PWD/target/release/rrsync-rs
DEMO=${DEMO_DIR:-/tmp/rrsync-demo}
PORT=${DEMO_PORT:-2222}
rm -rf "$DEMO" && mkdir -p "$DEMO/srv/photos/2026" "$DEMO/keys"
echo "hello from rrsync-rs" > "$DEMO/srv/photos/README.txt"
head -c 1048576 /dev/urandom > "$DEMO/srv/photos/2026/img-0001.raw"
ssh-keygen -q -t ed25519 -N '' -C demo@client -f "$DEMO/keys/client"
# The key line says what this key may do: read-only, beneath srv.
"$BIN" authorize -ro "$DEMO/srv" "$DEMO/keys/client.pub" --append "$DEMO/keys/authorized_keys" >/dev/null
"$BIN" serve --listen "127.0.0.1:$PORT" --authorized-keys "$DEMO/keys/authorized_keys" \
    --host-key "$DEMO/keys/host_key" --audit "$DEMO/audit.jsonl" 2>"$DEMO/serve.log" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q "listening" "$DEMO/serve.log" 2>/dev/null && break; sleep 0.1; done
SSH="ssh -p $PORT -i $DEMO/keys/client -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
echo "== authorized_keys line:"; cat "$DEMO/keys/authorized_keys"
echo "== pulling with stock rsync through rrsync-rs serve:"
rsync -av -e "$SSH" "demo@127.0.0.1:photos/" "$DEMO/copy/"
echo "== a push is refused by this read-only key:"
rsync -av -e "$SSH" "$DEMO/copy/" "demo@127.0.0.1:photos/" || true
echo "== audit log:"; cat "$DEMO/audit.jsonl"
echo
echo "Try it yourself while this script waits (Ctrl-C stops the server):"
echo "  rsync -av -e \"$SSH\" demo@127.0.0.1:photos/ /tmp/my-copy/"
if [ -t 0 ]; then wait $SERVE; fi
