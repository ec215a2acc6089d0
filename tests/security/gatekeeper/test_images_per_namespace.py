"""Images are judged per namespace (#9 finding 6): the constraints exactly as a stack brings them, run with
regopy against what a line team member would apply with kubectl.

A line runs its own path under the site mirror (`<mirror>/<factory>-lines/<line>/`) and the stack's
`allowedImages`; the platform namespaces run exactly the images the catalogue pins; every other namespace
only the stack's `allowedImages`. `<mirror>/*` — everything the mirror's proxy cache can fetch, all of Docker
Hub — is on no list."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from components.catalogue.model import ClusterContext
from components.catalogue.release import resolve
from components.config.document import FactoryConfig
from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.inventory import CATALOGUE, line_images, pack_settings, platform_namespaces
from components.security.gatekeeper import constraints, templates
from offline.harness import Recording
from tests.support.factories import DELETE, MIRROR, mutate, secure_raw
from tests.support.gatekeeper import container, deployment, violations
from tests.support.runs import Runs

DOCKER_HUB_THROUGH_THE_MIRROR = f"{MIRROR}/docker.io/library/nginx:1.27"


ALLOWED_REPOS = "kubernetes:constraints.gatekeeper.sh/v1beta1:K8sAllowedReposv2"


def _config(raw: dict[str, Any] | None = None) -> FactoryConfig:
    return load_factory_config(raw or secure_raw())


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(secure_raw())


def image_constraints(recording: Recording, cluster: str = "edge") -> list[dict[str, Any]]:
    """The K8sAllowedReposv2 constraints the program registers on one cluster, as applied."""
    return [r.inputs for r in recording.of_type(ALLOWED_REPOS) if r.name.startswith(f"testwerk-{cluster}-")]


def judges(constraint: dict[str, Any], namespace: str) -> bool:
    """Gatekeeper's namespace match: the namespaces it names, else every namespace it does not exclude."""
    match = constraint["spec"]["match"]
    if "namespaces" in match:
        return namespace in match["namespaces"]
    return namespace not in match.get("excludedNamespaces", [])


def refusals(recording: Recording, namespace: str, image: str, cluster: str = "edge") -> list[str]:
    """What every image constraint judging `namespace` says about a Deployment of `image` applied there."""
    obj = deployment({"containers": [container(image=image)]})
    obj["metadata"]["namespace"] = namespace
    found = []
    applying = [c for c in image_constraints(recording, cluster) if judges(c, namespace)]
    assert applying, f"no image constraint judges {namespace}: anything would run there"
    for constraint in applying:
        found += [
            f"{constraint['metadata']['name']}: {m}"
            for m in violations("K8sAllowedReposv2", obj, constraint["spec"]["parameters"])
        ]
    return found


# --- the attack: a line team member runs anything of Docker Hub through the mirror ----------------------------


@pytest.mark.parametrize("namespace", ["line-press", "line-weld"])
def test_a_docker_hub_image_through_the_mirror_is_refused_in_a_line(recording: Recording, namespace: str) -> None:
    [refused] = refusals(recording, namespace, DOCKER_HUB_THROUGH_THE_MIRROR)
    line = namespace.removeprefix("line-")
    assert refused.startswith(f"allowed-images-line-{line}: ") and DOCKER_HUB_THROUGH_THE_MIRROR in refused


def test_the_same_image_under_the_lines_own_path_is_admitted(recording: Recording) -> None:
    assert refusals(recording, "line-press", f"{MIRROR}/testwerk-lines/press/nginx:1.27") == []
    assert refusals(recording, "line-press", f"{MIRROR}/testwerk-lines/press/tools/plc-bridge:2.0.1") == []
    # and the stack's own allowedImages, in every line
    assert refusals(recording, "line-weld", "registry.plant.local/lines/weld/welder:3.1") == []


@pytest.mark.parametrize(
    "image",
    [
        f"{MIRROR}/testwerk-lines/weld/nginx:1.27",  # another line's path
        f"{MIRROR}/testwerk-lines/pressure/nginx:1.27",  # a line whose name merely starts the same
        f"{MIRROR}/testwerk-lines/nginx:1.27",  # the lines' root itself
        f"{MIRROR}/testwerk-lines-evil/press/nginx:1.27",  # a neighbour of the root
        f"{MIRROR}/otherwerk-lines/press/nginx:1.27",  # another factory's line of the same name
    ],
)
def test_another_lines_path_is_refused(recording: Recording, image: str) -> None:
    [refused] = refusals(recording, "line-press", image)
    assert refused.startswith("allowed-images-line-press: ")


def test_the_mirror_as_a_whole_is_on_no_list(recording: Recording) -> None:
    for cluster in ("edge", "cloud"):
        for constraint in image_constraints(recording, cluster):
            entries = constraint["spec"]["parameters"]["allowedImages"]
            assert f"{MIRROR}/*" not in entries, constraint["metadata"]["name"]
            assert not [
                e
                for e in entries
                if e.endswith("*") and not e.startswith((f"{MIRROR}/testwerk-lines/", "registry.plant.local/"))
            ]


def test_a_namespace_that_is_neither_a_lines_nor_the_platforms_runs_only_the_stacks_list(
    recording: Recording,
) -> None:
    [refused] = refusals(recording, "default", DOCKER_HUB_THROUGH_THE_MIRROR)
    assert refused.startswith("allowed-images: ")
    assert refusals(recording, "default", f"{MIRROR}/testwerk-lines/press/nginx:1.27") != []
    assert refusals(recording, "default", "registry.plant.local/lines/tools/x:1") == []


# --- the careless stack edit: the mirror back on the list -----------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        (f"{MIRROR}/*", "admits everything the site mirror harbor.plant.local/mirror can fetch"),
        ("harbor.plant.local/*", "admits every image of the registry harbor.plant.local"),
        (f"{MIRROR}/docker.io/*", "admits every image of the registry docker.io through the site mirror"),
        (f"{MIRROR}/testwerk-lines/*", "is in the lines' folders under the site mirror"),
        (f"{MIRROR}/testwerk-lines*", "is a prefix that does not end at a '/'"),
        (f"{MIRROR}/testwerk-lines/weld/*", "is in the lines' folders under the site mirror"),
        (f"{MIRROR}/testwerk-lines/weld/welder:3.1", "is in the lines' folders under the site mirror"),
    ],
)
def test_a_stack_edit_cannot_put_the_mirror_back_on_the_lines_list(entry: str, fragment: str) -> None:
    raw = mutate(secure_raw(), "security.gatekeeper.allowedImages", ["registry.plant.local/lines/*", entry])
    with pytest.raises(FactoryConfigError) as caught:
        load_factory_config(raw)
    [problem] = caught.value.problems
    assert problem.path == "factory-floor:security.gatekeeper.allowedImages[1]"
    assert fragment in problem.message


def test_paths_below_a_registry_through_the_mirror_stay_allowed() -> None:
    for entry in (f"{MIRROR}/docker.io/library/busybox:1.36", f"{MIRROR}/ghcr.io/acme/*", f"{MIRROR}/tools/*"):
        raw = mutate(secure_raw(), "security.gatekeeper.allowedImages", [entry])
        assert load_factory_config(raw).security.gatekeeper.allowed_images == [entry]


# --- the platform namespaces: exactly what the catalogue pins -------------------------------------------------


def _installed_images(config: FactoryConfig, cluster: str) -> dict[str, set[str]]:
    """What every add-on of the whole catalogue (all capabilities) enabled on the cluster installs, by namespace."""
    [found_cluster] = [c for c in config.clusters if c.name == cluster]
    ctx = ClusterContext(config, found_cluster, platform_namespaces())
    found: dict[str, set[str]] = {}
    for entry in CATALOGUE.values():
        if entry.enabled(ctx):
            found.setdefault(entry.namespace, set()).update(resolve(entry, ctx).images())
    return found


@pytest.mark.parametrize("cluster", ["edge", "cloud"])
def test_platform_namespaces_run_exactly_the_images_the_catalogue_pins(recording: Recording, cluster: str) -> None:
    installed = _installed_images(_config(), cluster)
    [platform] = [
        c for c in image_constraints(recording, cluster) if c["metadata"]["name"] == "allowed-images-platform"
    ]
    # the namespaces of the add-ons enabled here; never Kubernetes' own (kube-system is not ours)
    assert platform["spec"]["match"]["namespaces"] == sorted(installed)
    assert not {"kube-system", "kube-public", "kube-node-lease"} & set(platform["spec"]["match"]["namespaces"])
    entries = platform["spec"]["parameters"]["allowedImages"]
    assert entries == sorted(set().union(*installed.values())) and all("*" not in e for e in entries)
    for namespace, images in installed.items():
        for image in images:
            assert refusals(recording, namespace, image, cluster) == [], (namespace, image)
        # a compromised platform component (trivy-operator may create Jobs) cannot run anything else
        assert refusals(recording, namespace, DOCKER_HUB_THROUGH_THE_MIRROR, cluster) != [], namespace


def test_without_vault_the_external_secrets_namespace_is_not_listed(runs: Runs) -> None:
    raw = mutate(mutate(secure_raw(), "security.vault", DELETE), "lines.2.secrets", DELETE)
    # nor backups, whose k3s cluster would need Vault for its store credential
    raw = mutate(mutate(raw, "environment", "staging"), "backup", {})
    # nor alert receivers, whose keys only Vault holds (staging may leave teams without them)
    raw = mutate(mutate(mutate(raw, "teams.0.alerting", DELETE), "teams.1.alerting", DELETE), "observability", {})
    constraints_ = image_constraints(runs.main(raw))
    [platform] = [c for c in constraints_ if c["metadata"]["name"] == "allowed-images-platform"]
    assert "external-secrets" not in platform["spec"]["match"]["namespaces"]


def test_veleros_restore_helper_is_admitted_in_lines_by_its_exact_pinned_reference(recording: Recording) -> None:
    """A restored pod with file-system backups gets Velero's `restore-wait` init container running the server's own
    image (as installed: mirrored and pinned): admitted in every line by that exact reference, so a restore is not
    refused by the lines' guard rails — while the same repository at any other tag, which a line team member might
    run under Velero's name, is still refused."""
    [server] = line_images(_config(), _config().cluster("edge"))
    assert server.startswith(f"{MIRROR}/docker.io/velero/velero:v1.18.1@sha256:")
    for namespace in ("line-press", "line-weld"):
        assert refusals(recording, namespace, server) == []
        assert refusals(recording, namespace, server.split("@")[0]), "the tag alone is not the pinned image"
        assert refusals(recording, namespace, f"{MIRROR}/docker.io/velero/velero:latest")


# --- without a mirror, and the policy pack --------------------------------------------------------------------


def test_without_a_mirror_lines_run_the_stacks_list_only(runs: Runs) -> None:
    recording = runs.main(secure_raw(mirror=False))
    assert refusals(recording, "line-press", "registry.plant.local/lines/press/x:1") == []
    assert refusals(recording, "line-press", "docker.io/library/nginx:1.27") != []
    press = next(c for c in image_constraints(recording) if c["metadata"]["name"] == "allowed-images-line-press")
    # and Velero's restore helper, straight from Docker Hub like every add-on without a mirror
    velero = "docker.io/velero/velero:v1.18.1@sha256:11459094b1b21ec7c817b08f8067d9e89380835547915cac9c4132ff05b55b90"
    assert press["spec"]["parameters"]["allowedImages"] == ["registry.plant.local/lines/*", velero]


def test_every_image_constraint_validates_against_its_template(recording: Recording) -> None:
    schema = templates.TEMPLATES["K8sAllowedReposv2"].parameters
    names = set()
    for cluster in ("edge", "cloud"):
        for constraint in image_constraints(recording, cluster):
            jsonschema.validate(constraint["spec"]["parameters"], schema)
            names.add(constraint["metadata"]["name"])
    lines = {f"allowed-images-line-{line}" for line in ("press", "weld", "mes")}
    assert names == {"allowed-images", "allowed-images-platform", *lines}


def test_the_pack_judges_with_the_union_of_the_lines_lists() -> None:
    """CrossGuard has one allowedRegistries list for every judged namespace: the union of what any line may
    run (never the mirror as a whole); Gatekeeper holds each line to its own part of it."""
    settings = pack_settings(_config())
    assert settings["allowedRegistries"] == [
        f"{MIRROR}/testwerk-lines/mes/*",
        f"{MIRROR}/testwerk-lines/press/*",
        f"{MIRROR}/testwerk-lines/weld/*",
        "registry.plant.local/lines/*",
    ]
    assert settings["allowedRegistries"] == constraints.allowed_images(_config())
