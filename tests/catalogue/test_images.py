"""Every catalogue image is pinned, and what the catalogue records is what gets deployed: the digest flows into
the chart values (through the site mirror), into a manifest add-on's pod spec, and into the plan's bundle;
pinned images are never re-pulled; an image without a digest says why and is reported as such."""

from __future__ import annotations

import pytest

from components.catalogue.images import PINNED_PULL_POLICY, Image, is_digest_pinned
from components.catalogue.mirror import image_reference
from components.catalogue.model import Chart, ClusterContext, Manifests
from components.catalogue.release import Release, resolve
from components.catalogue.values import get_path
from components.config.loader import load_factory_config
from components.core.kube import containers, pod_spec
from components.inventory import CATALOGUE, platform_namespaces
from tests.support.factories import MIRROR, secure_raw

DIGEST = "sha256:" + "ab" * 32


def _contexts(mirror: bool) -> list[ClusterContext]:
    config = load_factory_config(secure_raw(mirror=mirror))
    return [ClusterContext(config, cluster, platform_namespaces()) for cluster in config.clusters]


def test_every_image_slot_names_its_catalogue_image() -> None:
    for addon in CATALOGUE.values():
        if isinstance(addon.source, Chart):
            assert all(slot.image is not None for slot in addon.source.images), addon.name
        else:
            # a manifest add-on that runs pods declares their images (the restore drill's marker runs none)
            rendered = [m for ctx in _contexts(True) if addon.enabled(ctx) for m in addon.source.render(ctx)]
            runs_pods = any(pod_spec(m) for m in rendered)
            assert addon.source.images or not runs_pods, f"{addon.name}: declares the images its pods run"
        for image in addon.images():
            assert image.digest or "not digest-pinned" in image.source or image.moving, image.tag_reference


@pytest.mark.parametrize("mirror", [False, True], ids=["no-mirror", "mirror"])
def test_the_recorded_tag_and_digest_reach_the_chart_values(mirror: bool) -> None:
    seen = set()
    for ctx in _contexts(mirror):
        for addon in CATALOGUE.values():
            if not isinstance(addon.source, Chart) or not addon.enabled(ctx):
                continue
            values = resolve(addon, ctx).values
            for slot in addon.source.images:
                assert slot.image is not None
                if get_path(values, slot.repository_key) is None:
                    continue  # a part this cluster's values switch off (Grafana on a cell); another context has it
                seen.add((addon.name, slot.repository_key))
                rendered = image_reference(values, slot)
                if mirror:
                    assert rendered == f"{MIRROR}/{slot.image.reference}", addon.name
                else:
                    assert rendered == slot.image.reference, addon.name
                if slot.image.digest:
                    assert rendered.endswith(f":{slot.image.tag}@{slot.image.digest}")
    enabled = [a for a in CATALOGUE.values() if isinstance(a.source, Chart) and any(map(a.enabled, _contexts(mirror)))]
    every = {(a.name, s.repository_key) for a in enabled if isinstance(a.source, Chart) for s in a.source.images}
    assert seen == every, "a slot no context renders was never checked"


def test_pinned_images_are_never_pulled_again() -> None:
    """A digest says exactly what to run: `IfNotPresent` never asks the registry for a node that has it (the
    kube-bench CronJob used `Always`, which made every run depend on the registry and on what a tag says)."""
    for ctx in _contexts(mirror=True):
        for addon in CATALOGUE.values():
            if not addon.enabled(ctx):
                continue
            release = resolve(addon, ctx)
            if isinstance(addon.source, Chart):
                _chart_pull_policies(release)
            else:
                for manifest in release.manifests:
                    for container in containers(pod_spec(manifest) or {}):
                        assert container["imagePullPolicy"] == PINNED_PULL_POLICY, addon.name


def test_a_manifest_add_on_runs_only_the_images_it_declares() -> None:
    for ctx in _contexts(mirror=True):
        for addon in CATALOGUE.values():
            if isinstance(addon.source, Manifests) and addon.enabled(ctx):
                declared = {f"{MIRROR}/{image.reference}" for image in addon.source.images}
                assert set(resolve(addon, ctx).images()) <= declared, addon.name


def test_the_bundle_digests_are_the_catalogue_digests() -> None:
    recorded = {image.reference for addon in CATALOGUE.values() for image in addon.images()}
    ctx = _contexts(mirror=False)[1]  # the EKS cluster runs every add-on
    for addon in CATALOGUE.values():
        release = resolve(addon, ctx)
        assert set(release.images()) | set(release.artifacts()) <= recorded, addon.name


def test_a_digest_must_be_a_sha256_and_its_source_named() -> None:
    with pytest.raises(ValueError, match="is not sha256"):
        Image("docker.io", "a/b", "1.0", "sha256:abc", source="a public file that names it")
    with pytest.raises(ValueError, match="say where the digest was read"):
        Image("docker.io", "a/b", "1.0", DIGEST, source="")
    with pytest.raises(ValueError, match="moves on purpose cannot carry a digest"):
        Image("docker.io", "a/b", "2", DIGEST, source="a database tag republished daily", moving=True)
    image = Image("docker.io", "a/b", "1.0", DIGEST, source="a public file that names it")
    assert image.reference == f"docker.io/a/b:1.0@{DIGEST}" and image.tag_reference == "docker.io/a/b:1.0"
    assert is_digest_pinned(image.reference) and not is_digest_pinned(image.tag_reference)
    assert not is_digest_pinned("docker.io/a/b:1.0@sha256:short")


def _chart_pull_policies(release: Release) -> None:
    assert isinstance(release.addon.source, Chart)
    for slot in release.addon.source.images:
        if get_path(release.values, slot.repository_key) is None:
            continue  # switched off on this cluster
        if slot.pull_policy_key:
            assert get_path(release.values, slot.pull_policy_key) == PINNED_PULL_POLICY, release.addon.name
        elif not slot.artifact:
            # an image an operator runs for a custom resource the add-on brings: the CR says how it is pulled
            policies = {b.manifest["spec"].get("imagePullPolicy") for b in release.brought}
            assert policies == {PINNED_PULL_POLICY}, f"{release.addon.name}: {slot.repository_key} has no pull policy"
