#!/bin/sh
# The secret export's second step (container `encrypt`, the pinned sops image, busybox sh): encrypt the plaintext
# export to the stack's age recipients as one opaque blob (binary input: not even the secrets' paths or field names
# stay readable), write the ciphertext where `upload` sends it from, then delete the plaintext. Reads:
#   $PLAIN/export.json        the export (a memory-backed volume; vault_export.py wrote it)
#   $ESCROW_DIR/recipients    the age recipients, comma-separated
# Writes $SCRATCH/out/secrets/vault-<UTC time>.sops.json. Decrypt with
#   SOPS_AGE_KEY_FILE=<identity> sops decrypt --input-type json --output-type binary <file>
set -eu
trap 'rm -f "$PLAIN/export.json"' EXIT
mkdir -p "$SCRATCH/out/secrets"
name="$SCRATCH/out/secrets/vault-$(date -u +%Y%m%dT%H%M%SZ).sops.json"
sops encrypt --age "$(cat "$ESCROW_DIR/recipients")" --input-type binary --output-type json \
  --output "$name" "$PLAIN/export.json"
# the recipients file has no final newline: count the commas, not the lines
echo "encrypted the export to $(($(tr -cd ',' < "$ESCROW_DIR/recipients" | wc -c) + 1)) age recipient(s): $(basename "$name")"
