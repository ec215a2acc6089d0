"""`make pin-digests` speaks the registry protocol correctly: the anonymous token dance of Docker Hub and GHCR, an
anonymous mirror, the digest header — replayed from a fixture in the protocol's documented shapes (CI cannot
reach a registry) — and it fails loudly on a recorded digest the registry does not serve."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from components.catalogue.images import Image
from offline import pin_digests
from offline.pin_digests import Response, Verdict, bearer_challenge, check, exit_code, resolve

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "registry_exchanges.json").read_text())
SOURCE = "a test fixture, not a real image"


class Replay:
    """Answers each request with the next recorded exchange, checking it is the request that was recorded."""

    def __init__(self, exchanges: list[dict[str, Any]]) -> None:
        self.exchanges = list(exchanges)

    def __call__(self, method: str, url: str, headers: Mapping[str, str]) -> Response:
        exchange = self.exchanges.pop(0)
        assert [method, url] == exchange["request"]
        for name, value in exchange.get("requires", {}).items():
            assert headers.get(name) == value, f"{url}: expected {name}"
        if method == "HEAD":
            assert "application/vnd.oci.image.index.v1+json" in headers["Accept"]
        return Response(exchange["status"], exchange["headers"], exchange["body"].encode())


def _image(registry: str, repository: str, tag: str, digest: str | None = None) -> Image:
    return Image(registry, repository, tag, digest, source=SOURCE)


def test_docker_hub_anonymous_token_then_digest() -> None:
    replay = Replay(FIXTURE["docker_hub"])
    digest = resolve(_image("docker.io", "falcosecurity/falco", "0.44.1"), replay)
    assert digest == "sha256:" + "1" * 64 and not replay.exchanges


def test_ghcr_token_named_access_token() -> None:
    replay = Replay(FIXTURE["ghcr_token_as_access_token"])
    assert resolve(_image("ghcr.io", "external-secrets/external-secrets", "v2.0.0"), replay) == "sha256:" + "2" * 64


def test_an_anonymous_mirror_answers_directly() -> None:
    assert resolve(_image("mirror.gcr.io", "aquasec/trivy", "0.62.1"), Replay(FIXTURE["anonymous_mirror"])) == (
        "sha256:" + "3" * 64
    )


def test_never_sends_a_password_and_never_trusts_a_missing_digest() -> None:
    with pytest.raises(ValueError, match="only anonymous tokens"):
        resolve(_image("registry.plant.local", "lines/app", "1.0"), Replay(FIXTURE["basic_auth_refused"]))
    with pytest.raises(ValueError, match="without a sha256 Docker-Content-Digest"):
        resolve(_image("mirror.gcr.io", "aquasec/trivy", "0.62.1"), Replay(FIXTURE["no_digest_header"]))
    with pytest.raises(ValueError, match="https realm"):
        bearer_challenge('Bearer realm="http://auth.example/token",service="x"')


def test_official_images_live_under_library() -> None:
    assert pin_digests.manifest_url(_image("docker.io", "nginx", "1.27")).startswith(
        "https://registry-1.docker.io/v2/library/nginx/manifests/"
    )


def test_a_recorded_digest_the_registry_does_not_serve_fails_the_check() -> None:
    """The attack: a tag moved under us (or a digest copied from a wrong source). The check must not pass."""
    served = "sha256:" + "1" * 64
    moved = _image("docker.io", "falcosecurity/falco", "0.44.1", "sha256:" + "9" * 64)
    same = _image("docker.io", "falcosecurity/falco", "0.44.1", served)
    assert exit_code(check([moved], Replay(FIXTURE["docker_hub"])), strict=False) == 1
    assert exit_code(check([same], Replay(FIXTURE["docker_hub"])), strict=False) == 0
    [verdict] = check([moved], Replay(FIXTURE["docker_hub"]))
    assert verdict.line.startswith("DIFFERS")


def test_strict_fails_while_an_image_has_no_digest_except_tags_that_move_on_purpose() -> None:
    served = "sha256:" + "3" * 64
    unpinned = Verdict(_image("mirror.gcr.io", "aquasec/trivy", "0.62.1"), served)
    database = Verdict(Image("mirror.gcr.io", "aquasec/trivy-db", "2", None, source=SOURCE, moving=True), served)
    assert exit_code([unpinned], strict=False) == 0 and exit_code([unpinned], strict=True) == 1
    assert exit_code([database], strict=True) == 0
    assert exit_code([Verdict(unpinned.image, None, "unreachable")], strict=False) == 1


def test_the_catalogue_lists_every_image_once() -> None:
    images = pin_digests.catalogue_images()
    assert len({i.tag_reference for i in images}) == len(images) >= 8
