#!/bin/bash
# The image escrow's first step (container `fetch`, the pinned skopeo image): copy every image of the cluster's
# bundle, and every chart an OCI chart mirror serves, that the store does not hold yet into the pod's scratch
# volume as a skopeo `dir:` layout — every platform's manifest, the index or manifest list, and every blob by its
# digest, exactly as the registry serves them. Not an OCI archive: that format accepts only OCI manifests, and
# converting a Docker manifest list would change the digests the stack pins. A plant pushes it into a new mirror
# with `skopeo copy --all --preserve-digests dir:<directory> docker://<mirror>/...` and runs the same references.
# Reads:
#   $ESCROW_DIR/oci.list   one line per item: <reference to pull, by digest> <directory under the escrow prefix>
#   $SCRATCH/present       object names the store holds already (written by the `inventory` container)
# Writes $SCRATCH/out/<directory>/, and last in it `escrow-complete`, which `upload` sends only after the rest: a
# copy the store holds without it is incomplete and is fetched again. Any failed copy fails the run.
set -euo pipefail
out="$SCRATCH/out"
mkdir -p "$out" "$SCRATCH/tmp"
copied=0
held=0
while read -r reference name; do
  [ -n "${reference:-}" ] || continue
  if grep -qxF -- "$name/escrow-complete" "$SCRATCH/present"; then
    held=$((held + 1))
    continue
  fi
  mkdir -p "$out/$name"
  echo "copying $reference"
  skopeo --tmpdir "$SCRATCH/tmp" copy --quiet --retry-times 3 --all --preserve-digests \
    "docker://$reference" "dir:$out/$name"
  printf '%s\n' "$reference" > "$out/$name/escrow-complete"
  copied=$((copied + 1))
done < "$ESCROW_DIR/oci.list"
echo "fetched $copied image(s) and OCI chart(s); $held already in the store"
