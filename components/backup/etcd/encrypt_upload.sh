#!/bin/sh
# factory-floor: encrypt each new etcd snapshot of this server to the recipients' PUBLIC keys, then upload the
# ciphertext (and only the ciphertext) to the store. Run by factory-floor-etcd-snapshot-upload.service; built and
# explained by components/backup/etcd/uploader.py. POSIX sh: runs under Debian's dash and busybox alike.
#
#   SNAPSHOT_DIR    where the distribution writes its snapshots (read only to this script)
#   STATE_DIR       this script's own: outbox/ (ciphertext awaiting upload) and uploaded/ (a marker per snapshot)
#   RECIPIENTS_DIR  one public key per file: age recipients (SCHEME=age) or armored OpenPGP keys (SCHEME=openpgp)
#   SCHEME          age | openpgp
#   TARGET          the rclone destination prefix, e.g. store:bucket/etcd/<cluster>
#   SETTLE_SECONDS  only snapshots unchanged this long: k3s/RKE2 write a compressed snapshot in place
#   TOKEN_FILE      optional: the server's token, which a restore on new hosts needs (`--token`); escrowed like a
#                   snapshot, once per content, as server-token-<first 16 hex of its SHA-256>
#
# Exit status 0 when every settled snapshot is in the store; 1 when any failed (the others still went).
set -eu
umask 077

: "${SNAPSHOT_DIR:?is not set}" "${STATE_DIR:?is not set}" "${RECIPIENTS_DIR:?is not set}"
: "${SCHEME:?is not set}" "${TARGET:?is not set}"
SETTLE_SECONDS="${SETTLE_SECONDS:-120}"
OUTBOX="$STATE_DIR/outbox"
DONE="$STATE_DIR/uploaded"
AGE_HEADER="age-encryption.org/v1"

case "$SCHEME" in
  age) EXT=.age ;;
  openpgp) EXT=.gpg ;;
  *) echo "SCHEME must be age or openpgp, not '$SCHEME'" >&2; exit 2 ;;
esac
mkdir -p "$OUTBOX" "$DONE"
rm -f "$OUTBOX"/*  # an interrupted run's ciphertext: encrypted again below, never uploaded half-written

encrypt_age() {  # encrypt_age PLAIN CIPHER
  plain=$1 cipher=$2
  set --
  for key in "$RECIPIENTS_DIR"/*; do
    if [ -f "$key" ]; then set -- "$@" -R "$key"; fi
  done
  if [ "$#" -eq 0 ]; then echo "no recipients in $RECIPIENTS_DIR" >&2; return 1; fi
  age "$@" -o "$cipher" "$plain"
}

encrypt_openpgp() {  # encrypt_openpgp PLAIN CIPHER
  plain=$1 cipher=$2
  set --
  for key in "$RECIPIENTS_DIR"/*; do
    if [ -f "$key" ]; then set -- "$@" --recipient-file "$key"; fi
  done
  if [ "$#" -eq 0 ]; then echo "no recipients in $RECIPIENTS_DIR" >&2; return 1; fi
  # a throw-away keyring: the keys come from the files, nothing is imported or trusted beyond this run
  home=$(mktemp -d "$STATE_DIR/gnupg.XXXXXX")
  status=0
  gpg --homedir "$home" --batch --no-tty --quiet --yes --trust-model always "$@" \
    --output "$cipher" --encrypt "$plain" || status=$?
  rm -rf "$home"
  return "$status"
}

# Refuse to upload anything that does not look like ciphertext of the scheme, or equals the snapshot: a broken
# or substituted tool must never turn into plaintext in the store.
is_ciphertext() {  # is_ciphertext PLAIN CIPHER
  [ -s "$2" ] || return 1
  if cmp -s "$1" "$2"; then return 1; fi
  if [ "$SCHEME" = age ]; then
    [ "$(head -c ${#AGE_HEADER} "$2")" = "$AGE_HEADER" ]
  else
    # an OpenPGP message to public keys opens with a public-key encrypted session key packet (tag 1):
    # old format 0x84-0x87, new format 0xc1 (RFC 4880, 4.2)
    case "$(head -c 1 "$2" | od -An -tx1 | tr -d ' \n')" in
      84 | 85 | 86 | 87 | c1) return 0 ;;
      *) return 1 ;;
    esac
  fi
}

ship() {  # ship SNAPSHOT NAME: encrypt, check, upload, mark; the ciphertext is removed either way
  cipher="$OUTBOX/$2$EXT"
  if ! "encrypt_$SCHEME" "$1" "$cipher"; then
    echo "FAIL $2: encryption failed, nothing uploaded" >&2
  elif ! is_ciphertext "$1" "$cipher"; then
    echo "FAIL $2: the encrypted file is not $SCHEME ciphertext, nothing uploaded" >&2
  elif ! rclone copyto --ignore-existing "$cipher" "$TARGET/$2$EXT"; then
    echo "FAIL $2: upload to $TARGET failed; it is tried again on the next run" >&2
  else
    : >"$DONE/$2"
    rm -f "$cipher"
    echo "ok   $2: uploaded as $TARGET/$2$EXT"
    return 0
  fi
  rm -f "$cipher"
  return 1
}

failed=0
now=$(date +%s)
for snapshot in "$SNAPSHOT_DIR"/*; do
  [ -f "$snapshot" ] || continue
  name=${snapshot##*/}
  case "$name" in *.part) continue ;; esac  # etcd still writing it (renamed when complete)
  [ ! -e "$DONE/$name" ] || continue
  mtime=$(stat -c %Y "$snapshot" 2>/dev/null) || continue  # pruned by the distribution meanwhile
  written=$((now - mtime))
  if [ "$written" -lt "$SETTLE_SECONDS" ]; then
    echo "wait $name: written ${written}s ago, may still be growing"
    continue
  fi
  ship "$snapshot" "$name" || failed=1
done

# the token a restore on new hosts needs: lost with the site unless it is kept apart, encrypted like the snapshots
# (its hash names the object: 16 hex of a SHA-256 tell nothing of a random token, and a new token is a new object)
if [ -n "${TOKEN_FILE:-}" ] && [ -s "$TOKEN_FILE" ]; then
  token="server-token-$(sha256sum "$TOKEN_FILE" | cut -c1-16)"
  if [ ! -e "$DONE/$token" ]; then ship "$TOKEN_FILE" "$token" || failed=1; fi
fi

# markers of snapshots the distribution has pruned (retention): nothing left to upload, keep the state small
for marker in "$DONE"/*; do
  [ -e "$marker" ] || continue
  case "${marker##*/}" in server-token-*) continue ;; esac
  [ -e "$SNAPSHOT_DIR/${marker##*/}" ] || rm -f "$marker"
done
exit "$failed"
