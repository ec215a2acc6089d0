"""The one add-on table: every add-on pinned, every image reachable by the site mirror, every exemption
explained; the mirror rewrite itself; quantities for the footprint."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.catalogue.footprint import quantity
from components.catalogue.mirror import chart_source, image_reference, mirror_image, mirrored
from components.catalogue.model import AddOn, Chart, ClusterContext, ImageSlot, Manifests, PodSecurity
from components.catalogue.release import resolve
from components.config.loader import load_factory_config
from components.inventory import CATALOGUE, exempt_namespaces, platform_namespaces
from tests.support.factories import MIRROR, secure_raw


def test_every_add_on_is_pinned_to_an_exact_version_from_https() -> None:
    for addon in CATALOGUE.values():
        assert re.fullmatch(r"\d+\.\d+\.\d+", addon.version), addon.name
        if isinstance(addon.source, Chart):
            assert addon.source.repository.startswith("https://"), addon.name


def _keys(values: dict[str, Any], prefix: str = "") -> list[str]:
    found = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        found += _keys(value, f"{path}.") if isinstance(value, dict) else [path]
    return found


def test_every_image_is_pinned_and_reached_by_the_mirror() -> None:
    config = load_factory_config(secure_raw(mirror=True))
    for cluster in config.clusters:
        context = ClusterContext(config, cluster, platform_namespaces())
        for addon in CATALOGUE.values():
            release = resolve(addon, context)
            for image in release.images() + release.artifacts():
                assert not image.endswith((":latest", ":None", ":")), image
                assert image.startswith(f"{MIRROR}/"), image
            if isinstance(addon.source, Chart):
                # every value that looks like an image repository is a slot (so the mirror reaches it)
                slot_keys = {s.repository_key for s in addon.source.images}
                for key in _keys(release.values):
                    if key.endswith(("image.repository", "Repository", "nodeCollector.repository")):
                        assert key in slot_keys, f"{addon.name}: {key} is not an image slot"


def test_every_platform_namespace_states_why_it_is_not_judged_like_a_line() -> None:
    reasons = exempt_namespaces()
    assert {"kube-system", *(a.namespace for a in CATALOGUE.values())} <= set(reasons)
    assert all(len(reason) > 20 and reason.endswith(".") for reason in reasons.values())


def test_below_restricted_an_add_on_must_say_why() -> None:
    with pytest.raises(ValueError, match="Pod Security privileged needs a reason"):
        AddOn("agent", "agent", "1.0.0", Manifests(lambda _ctx: []), pod_security=PodSecurity("privileged"))


@pytest.mark.parametrize("name", ["a" * 54, "Falco", "falco_sidekick", "-falco", "falco-"])
def test_an_add_on_name_helm_would_refuse_as_a_release_name_is_refused_in_the_catalogue(name: str) -> None:
    with pytest.raises(ValueError, match="Helm limits to 53 characters"):
        AddOn(name, "agent", "1.0.0", Manifests(lambda _ctx: []))


def test_the_longest_release_name_helm_takes_is_a_valid_add_on_name() -> None:
    assert AddOn("a" * 53, "agent", "1.0.0", Manifests(lambda _ctx: [])).name == "a" * 53


def test_mirror_keeps_the_origin_registry_in_the_path() -> None:
    values = {
        "a": {"registry": "docker.io", "repository": "falcosecurity/falco", "tag": "1"},
        "b": {"repository": "ghcr.io/x/y", "tag": "2"},
    }
    slots = (ImageSlot("a.repository", "a.tag", "a.registry"), ImageSlot("b.repository", "b.tag"))
    rewritten = mirrored(values, slots, MIRROR)
    assert image_reference(rewritten, slots[0]) == f"{MIRROR}/docker.io/falcosecurity/falco:1"
    assert image_reference(rewritten, slots[1]) == f"{MIRROR}/ghcr.io/x/y:2"
    assert values["a"]["registry"] == "docker.io", "the catalogue's own values are never mutated"
    assert mirror_image("nginx:1.27", MIRROR) == f"{MIRROR}/docker.io/library/nginx:1.27"


def test_https_chart_mirror_replaces_the_repository() -> None:
    source = CATALOGUE["falco"].source
    assert isinstance(source, Chart)
    assert chart_source(source, "https://charts.plant.local/helm") == ("falco", "https://charts.plant.local/helm")
    assert chart_source(source, "oci://harbor.plant.local/charts/") == ("oci://harbor.plant.local/charts/falco", None)
    assert chart_source(source, None) == ("falco", source.repository)


def test_quantities() -> None:
    assert quantity("250m") == quantity("0.25")
    assert quantity("1Gi") == 1024 * quantity("1Mi")
    assert quantity("500M") == 500_000_000
    with pytest.raises(ValueError):
        quantity("1 GB")


def test_every_brought_resource_names_the_crd_of_its_own_group_and_waits_for_what_defines_it() -> None:
    config = load_factory_config(secure_raw())
    context = ClusterContext(config, config.cluster("cloud"), platform_namespaces())
    brought = [(addon, b) for addon in CATALOGUE.values() if addon.enabled(context) for b in addon.brings(context)]
    assert {addon.name for addon, _ in brought} >= {"gatekeeper"}
    for addon, resource in brought:
        group = resource.manifest["apiVersion"].rpartition("/")[0]
        assert resource.crd.endswith(f".{group}"), (addon.name, resource.key, resource.crd)
        earlier = [b.key for a, b in brought if a is addon]
        if resource.after is not None:
            # e.g. a Gatekeeper constraint waits for the template that creates its CRD
            assert resource.after in earlier[: earlier.index(resource.key)], (addon.name, resource.key)
            [definer] = [b for a, b in brought if a is addon and b.key == resource.after]
            if definer.manifest["kind"] == "ConstraintTemplate":
                assert definer.manifest["spec"]["crd"]["spec"]["names"]["kind"] == resource.manifest["kind"]


def test_two_add_ons_under_one_name_are_refused() -> None:
    from components.inventory import _table  # noqa: PLC0415 - the table builder is what this test is about

    falco = CATALOGUE["falco"]
    with pytest.raises(ValueError, match="add-on names must be unique in the catalogue: falco"):
        _table(falco, CATALOGUE["gatekeeper"], falco)
