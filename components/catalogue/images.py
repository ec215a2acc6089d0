"""Every image the catalogue installs, pinned: its tag, and its digest wherever one could be read from a
trustworthy public source — with that source written next to it, so a reviewer can check where each digest came
from and `make pin-digests` can check it against the registry.

A digest makes a tag immutable: a re-pushed tag (a compromised publisher, a registry incident) cannot change
what a node runs, and a node that already has the image never asks the registry again (`IfNotPresent`). An
image whose digest could not be sourced stays tag-pinned, says why, and every plan lists it as not
digest-pinned until someone resolves it (`make pin-digests` prints what the registry answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# where a pinned image's pull policy points: the digest already says exactly what to run
PINNED_PULL_POLICY = "IfNotPresent"


@dataclass(frozen=True)
class Image:
    """One image (or OCI artifact) at an exact version. `source` says where the digest was read — a public
    repository and path — or, without a digest, why there is none."""

    registry: str
    repository: str
    tag: str
    digest: str | None
    source: str
    moving: bool = False  # a tag its publisher moves on purpose (scanner databases): never digest-pinned

    def __post_init__(self) -> None:
        if self.moving and self.digest is not None:
            raise ValueError(f"{self.name}:{self.tag}: a tag that moves on purpose cannot carry a digest")
        if self.digest is not None and not DIGEST_RE.match(self.digest):
            raise ValueError(f"{self.name}:{self.tag}: digest {self.digest!r} is not sha256:<64 hex digits>")
        if len(self.source) < 20:
            raise ValueError(f"{self.name}:{self.tag}: say where the digest was read, or why there is none")

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    @property
    def pinned_tag(self) -> str:
        """What a chart's tag value receives: `v1.2.3@sha256:...` renders as `<repository>:v1.2.3@sha256:...`,
        a reference container runtimes pull by digest (the tag stays for people reading it)."""
        return f"{self.tag}@{self.digest}" if self.digest else self.tag

    @property
    def reference(self) -> str:
        return f"{self.name}:{self.pinned_tag}"

    @property
    def tag_reference(self) -> str:
        """The reference without its digest: what a registry is asked to resolve."""
        return f"{self.name}:{self.tag}"


def is_digest_pinned(reference: str) -> bool:
    _, _, digest = reference.partition("@")
    return bool(DIGEST_RE.match(digest))


# The catalogue's own small tool image: sh and nc (netcat 1.10 compatible: -z, -w, -l -k -e) and nslookup, for
# what we run ourselves to prove something on a cluster (the segmentation canary, the Gatekeeper webhook probe).
BUSYBOX = Image(
    "docker.io",
    "library/busybox",
    "1.37.0",
    "sha256:9db7b59979c38555a39def84a31fb98b5296952f9e3afd4f6f11f05b07adfab0",
    source=(
        "docker-library/repo-info repos/busybox/remote/1.37.0.md (commit 01a7054230d5), Docker's own record of its "
        "official images: `docker pull busybox@sha256:9db7...`, an OCI image index of 17 platforms including "
        "linux/amd64 and linux/arm64/v8 (the glibc build, `make defconfig`: nc with -z, -w, -lk -e); the same digest "
        "is pinned in two unrelated public files. Verify with `make pin-digests`."
    ),
)
