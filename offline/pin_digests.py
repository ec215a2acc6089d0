"""`make pin-digests`: ask each registry what every catalogue image's tag points at, and compare it with the
digest the catalogue records.

The Registry HTTP API v2 (the OCI distribution spec) over HTTPS, with nothing but the standard library: a HEAD of
`/v2/<repository>/manifests/<tag>` answers the digest in `Docker-Content-Digest`; a registry that wants a token
says where to get one in `WWW-Authenticate: Bearer realm=...,service=...,scope=...` (anonymous pull tokens from
Docker Hub, GHCR and GCR's mirror). Run it where the registries are reachable — this project's offline CI cannot —
and copy a digest it reports into the image's catalogue entry, with this tool and the date as its source.

Exit 0: every recorded digest is what the registry serves. Exit 1: a recorded digest differs (a moved tag or a
wrong source: stop and find out which), or, with `--strict`, an image has no digest yet.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from components.catalogue.images import DIGEST_RE, Image

# what we accept for a tag: a multi-platform index first, so the digest is the same on every node's platform
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
# Docker Hub's API host differs from the name in image references
API_HOSTS = {"docker.io": "registry-1.docker.io"}
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""


Fetch = Callable[[str, str, Mapping[str, str]], Response]  # (method, url, headers) -> response


def manifest_url(image: Image) -> str:
    host = API_HOSTS.get(image.registry, image.registry)
    repository = (
        image.repository if "/" in image.repository or image.registry != "docker.io" else f"library/{image.repository}"
    )
    return f"https://{host}/v2/{repository}/manifests/{urllib.parse.quote(image.tag, safe='')}"


def bearer_challenge(header: str) -> dict[str, str]:
    """`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:x:pull"` ->
    its parameters; anything but a Bearer challenge is an error (we never send passwords)."""
    scheme, _, params = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise ValueError(f"registry asks for {scheme or 'nothing'} authentication; only anonymous tokens are used")
    found = dict(_CHALLENGE.findall(params))
    if "realm" not in found or not found["realm"].startswith("https://"):
        raise ValueError(f"token challenge without an https realm: {header!r}")
    return found


def token_url(challenge: Mapping[str, str]) -> str:
    query = urllib.parse.urlencode({k: v for k, v in challenge.items() if k in ("service", "scope")})
    return f"{challenge['realm']}?{query}" if query else challenge["realm"]


def token_of(body: bytes) -> str:
    document = json.loads(body)
    token = document.get("token") or document.get("access_token")
    if not isinstance(token, str) or not token:
        raise ValueError("token endpoint answered without a token")
    return token


def digest_of(response: Response) -> str:
    digest = response.headers.get("docker-content-digest", "")
    if not DIGEST_RE.match(digest):
        raise ValueError(f"registry answered without a sha256 Docker-Content-Digest (got {digest!r})")
    return digest


def resolve(image: Image, fetch: Fetch) -> str:
    """The digest the registry serves for the image's tag."""
    url, headers = manifest_url(image), {"Accept": MANIFEST_TYPES}
    response = fetch("HEAD", url, headers)
    if response.status == 401:
        challenge = bearer_challenge(response.headers.get("www-authenticate", ""))
        token = fetch("GET", token_url(challenge), {})
        if token.status != 200:
            raise ValueError(f"token endpoint answered {token.status}")
        response = fetch("HEAD", url, {**headers, "Authorization": f"Bearer {token_of(token.body)}"})
    if response.status != 200:
        raise ValueError(f"{url}: registry answered {response.status}")
    return digest_of(response)


def https_fetch(method: str, url: str, headers: Mapping[str, str]) -> Response:  # pragma: no cover - network
    request = urllib.request.Request(url, method=method, headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:  # https URLs built above
            return Response(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


@dataclass(frozen=True)
class Verdict:
    image: Image
    served: str | None  # None: the registry could not be asked
    problem: str | None = None

    @property
    def line(self) -> str:
        recorded = self.image.digest or "(none)"
        if self.served is None:
            return f"ERROR    {self.image.tag_reference}: {self.problem}"
        if self.image.moving:
            return f"MOVING   {self.image.tag_reference}  registry serves {self.served} today (tag-pinned on purpose)"
        if self.image.digest is None:
            return f"UNPINNED {self.image.tag_reference}  registry serves {self.served}"
        state = "OK      " if self.served == self.image.digest else "DIFFERS "
        return f"{state} {self.image.tag_reference}  recorded {recorded}, registry serves {self.served}"


def check(images: Iterable[Image], fetch: Fetch) -> list[Verdict]:
    verdicts = []
    for image in images:
        try:
            verdicts.append(Verdict(image, resolve(image, fetch)))
        except (ValueError, OSError) as error:
            verdicts.append(Verdict(image, None, str(error)))
    return verdicts


def exit_code(verdicts: Iterable[Verdict], strict: bool) -> int:
    for verdict in verdicts:
        if verdict.served is None or (verdict.image.digest and verdict.served != verdict.image.digest):
            return 1
        if strict and verdict.image.digest is None and not verdict.image.moving:
            return 1
    return 0


def catalogue_images() -> list[Image]:
    from components.inventory import CATALOGUE  # noqa: PLC0415 - the whole program, only for the CLI

    return sorted({image for addon in CATALOGUE.values() for image in addon.images()}, key=lambda i: i.tag_reference)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - network
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="fail while any image has no recorded digest")
    args = parser.parse_args(argv)
    verdicts = check(catalogue_images(), https_fetch)
    for verdict in verdicts:
        print(verdict.line)
    return exit_code(verdicts, args.strict)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
