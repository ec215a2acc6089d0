#!/bin/bash
# The image escrow's first step (container `fetch`, the pinned skopeo image): copy every image of the cluster's
# bundle, and every chart an OCI chart mirror serves, that the store does not hold yet into the pod's scratch
# volume as an OCI archive — the index and every platform, digests unchanged, so a plant can push it into a new
# mirror with `skopeo copy --all --preserve-digests oci-archive:<file> docker://<mirror>/...` and run the same
# pinned references. Reads:
#   $ESCROW_DIR/oci.list   one line per item: <reference to pull> <object name under the escrow prefix>
#   $SCRATCH/present       object names the store holds already (written by the `inventory` container)
# Writes $SCRATCH/out/<object name>. Any failed copy fails the run: a partial escrow must not look complete.
set -euo pipefail
out="$SCRATCH/out"
mkdir -p "$out" "$SCRATCH/tmp"
copied=0
held=0
while read -r reference name; do
  [ -n "${reference:-}" ] || continue
  if grep -qxF -- "$name" "$SCRATCH/present"; then
    held=$((held + 1))
    continue
  fi
  mkdir -p "$out/$(dirname -- "$name")"
  echo "copying $reference"
  skopeo --tmpdir "$SCRATCH/tmp" copy --quiet --retry-times 3 --all --preserve-digests \
    "docker://$reference" "oci-archive:$out/$name"
  copied=$((copied + 1))
done < "$ESCROW_DIR/oci.list"
echo "fetched $copied OCI archive(s); $held already in the store"
