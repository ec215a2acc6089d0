#!/bin/sh
# The store side of the image escrow (the pinned rclone image, busybox sh), in two modes:
#   upload.sh inventory  (init container `inventory`, first): the object names the store holds already under the
#                        escrow prefix, into $SCRATCH/present — so `fetch` and `upload` copy only what is missing
#   upload.sh upload     (container `upload`, last): download the chart archives the store does not hold, check each
#                        against the catalogue's SHA-256 (a mirror must serve the same bytes as upstream), then upload
#                        everything under $SCRATCH/out into the store
#   upload.sh send       (the secret export's container `upload`): only the last part, the ciphertext `encrypt` wrote
# Reads:
#   $ESCROW_DIR/charts.list  one line per chart: <https URL> <object name> <sha256>
#   $ESCROW_TARGET           the rclone destination, store:<bucket>/escrow/<cluster> (remote `store` from the
#                            RCLONE_CONFIG_STORE_* variables of the location's ConfigMap)
#   $ESCROW_CREDENTIAL_ENV   optional: a KEY=VALUE file whose variables the store's SDK reads (Azure's)
# --immutable: an object that exists with other content is an error, never overwritten (the store keeps every
# version anyway: a changed archive under a pinned name means something upstream changed, which someone must see).
set -eu
out="$SCRATCH/out"
if [ -n "${ESCROW_CREDENTIAL_ENV:-}" ]; then
  # exported one by one rather than sourced: a value is data, never shell. Split at the first '=' by hand: `IFS='='
  # read key value` drops a value's single trailing '=' (base64 padding), and `read` alone drops a last line
  # without its newline
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      '' | '#'*) continue ;;
    esac
    key=${line%%=*}
    value=${line#"$key"}
    export "$key=${value#=}"
  done < "$ESCROW_CREDENTIAL_ENV"
fi

inventory() {
  # an empty prefix lists nothing (exit 0); rclone exits 3 for a directory it cannot find: a first run either way
  status=0
  rclone lsf -R --files-only "$ESCROW_TARGET" > "$SCRATCH/present" || status=$?
  if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
    echo "FAIL listing $ESCROW_TARGET: rclone exited $status"
    exit "$status"
  fi
  echo "the store holds $(wc -l < "$SCRATCH/present") escrowed object(s) of this cluster"
}

upload() {
  mkdir -p "$out"
  charts=0
  while read -r url name digest; do
    [ -n "${url:-}" ] || continue
    if grep -qxF -- "$name" "$SCRATCH/present"; then
      continue
    fi
    mkdir -p "$out/$(dirname -- "$name")"
    echo "downloading $url"
    rclone copyurl "$url" "$out/$name"
    if ! echo "$digest  $out/$name" | sha256sum -c - > /dev/null 2>&1; then
      echo "FAIL $url: its SHA-256 is not the catalogue's $digest (a changed or substituted chart); nothing uploaded"
      exit 1
    fi
    charts=$((charts + 1))
  done < "$ESCROW_DIR/charts.list"
  echo "downloaded and checked $charts chart archive(s)"
  send
}

send() {
  # every file before the completion markers: an interrupted upload leaves no copy that looks complete
  rclone copy --immutable --exclude escrow-complete "$out" "$ESCROW_TARGET"
  rclone copy --immutable --include escrow-complete "$out" "$ESCROW_TARGET"
  echo "sent $(find "$out" -type f | wc -l) object(s) to $ESCROW_TARGET"
}

case "${1:-}" in
  inventory) inventory ;;
  upload) upload ;;
  send) send ;;
  *)
    echo "usage: upload.sh inventory|upload|send" >&2
    exit 2
    ;;
esac
