"""The GCS backup store under the mock harness: what it registers in production and development, what the real
policy pack says of it (and of one-field mutations), its names for the longest factory names, and how narrow a
writer's grant is."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pulumi
import pytest

from components.backup.config import GcpStoreConfig
from components.backup.stores.gcp import (
    GcpBackupStore,
    GcpStoreArgs,
    GcpStoreLocation,
    bucket_name,
    geo_redundant,
    grant_writer,
    kms_location,
    writer_folder,
)
from components.backup.stores.location import StoreLocation
from components.core.component import Protection
from offline import harness
from offline.harness import Recording, Registration
from offline.policy_runner import evaluate, load_policies

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "plant-backups-01"
FACTORY = "pilsen"
AGENT = "service-123456789012@gs-project-accounts.iam.gserviceaccount.com"
SERVICE_ACCOUNT_CALL = "gcp:storage/getProjectServiceAccount:getProjectServiceAccount"
WRITER = "serviceAccount:velero@plant-backups-01.iam.gserviceaccount.com"
BUCKET = "gcp:storage/bucket:Bucket"
KEY_RING = "gcp:kms/keyRing:KeyRing"
KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
PROVIDER = "pulumi:providers:gcp"
STATEFUL = {BUCKET, KEY_RING, KEY}
DAY = 86400
LONGEST_FACTORY = "f" + "0123456789abcdefghij" * 3 + "k" * 2  # 63 characters, a valid DNS label
GCS_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$")


def _answer_calls(_mocks: Any, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The harness answers no invoke (its `call` returns (dict, None), which the SDK's MockMonitor cannot
    iterate): answer the service-agent lookup the way GCS does, in its documented form."""
    if args.token == SERVICE_ACCOUNT_CALL:
        return {"emailAddress": AGENT, "member": f"serviceAccount:{AGENT}", "project": args.args["project"]}, []
    return {}, []


def _run(program: Callable[[], None], stack: str) -> Recording:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(harness.EchoMocks, "call", _answer_calls)
        return harness.run(program, project="factory-floor", stack=stack)


def _store(environment: str, factory: str = FACTORY, **store: Any) -> GcpBackupStore:
    config = GcpStoreConfig.model_validate({"project": PROJECT, "location": "EUR4", **store})
    args = GcpStoreArgs(
        protection=Protection.of(environment, None), factory=factory, environment=environment, store=config
    )
    return GcpBackupStore("gcp-backups", args)


def run_store(environment: str, factory: str = FACTORY, **store: Any) -> Recording:
    def program() -> None:
        location = _store(environment, factory, **store).location
        pulumi.export("location", vars(location) | {"provider": None})

    return _run(program, environment)


def one(recording: Recording, type_: str) -> Registration:
    found = recording.of_type(type_)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


@pytest.fixture(scope="module")
def production() -> Recording:
    return run_store("production")


@pytest.fixture(scope="module")
def development() -> Recording:
    return run_store("development")


def test_the_bucket_carries_every_protection(production: Recording) -> None:
    bucket = one(production, BUCKET).inputs
    key = one(production, KEY)
    assert bucket["name"] == bucket_name(PROJECT, FACTORY)
    assert bucket["project"] == PROJECT and bucket["location"] == "EUR4"
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["forceDestroy"] is False
    assert bucket["encryption"] == {"defaultKmsKeyName": f"{key.name}-id"}
    assert bucket["retentionPolicy"] == {"retentionPeriod": str(35 * DAY), "isLocked": True}
    assert bucket["softDeletePolicy"]["retentionDurationSeconds"] >= 7 * DAY
    assert bucket["versioning"] == {"enabled": False}  # GCS refuses versioning next to a retention policy
    assert bucket["lifecycleRules"] == [{"action": {"type": "Delete"}, "condition": {"age": 90.0}}]
    assert bucket["labels"] == {"factory": FACTORY, "managed-by": "pulumi", "factory-floor-purpose": "backup"}


def test_the_key_rotates_in_the_buckets_location_and_the_storage_agent_may_use_it(production: Recording) -> None:
    ring, key, member = one(production, KEY_RING), one(production, KEY), one(production, KEY_MEMBER)
    assert ring.inputs["location"] == "eur4"  # a predefined dual-region's key lives in that dual-region
    assert key.inputs["keyRing"] == f"{ring.name}-id"
    assert key.inputs["rotationPeriod"] == f"{90 * DAY}s"
    assert member.inputs == {
        "cryptoKeyId": f"{key.name}-id",
        "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        "member": f"serviceAccount:{AGENT}",
    }
    assert member.urn in one(production, BUCKET).dependencies  # GCS checks the grant when the bucket is created


def test_every_child_uses_the_stores_own_provider(production: Recording) -> None:
    provider = one(production, PROVIDER)
    assert provider.inputs["project"] == PROJECT
    assert "pilsen" in provider.inputs["defaultLabels"]
    children = [r for r in production.resources if r.custom and r.type != PROVIDER]
    assert {r.type for r in children} == {BUCKET, KEY_RING, KEY, KEY_MEMBER}
    assert all(r.provider_urn == provider.urn for r in children)
    store = one(production, "factory:index:GcpBackupStore")
    assert all(r.parent == store.urn for r in [provider, *children])


def test_the_location_tells_writers_everything_but_their_identity(production: Recording) -> None:
    location = production.outputs["location"]
    key = one(production, KEY)
    assert location["cloud"] == "gcp"
    assert location["bucket"] == bucket_name(PROJECT, FACTORY)
    assert location["key"] == f"{key.name}-id"
    assert location["velero_config"] == {"kmsKeyName": f"{key.name}-id"}  # serviceAccount is the writer's
    assert location["region"] == location["replica"] == "EUR4"  # a dual-region needs no replica bucket


def test_a_regional_store_names_no_replica_and_keeps_its_key_in_the_region() -> None:
    recording = run_store("development", location="EUROPE-WEST3")
    assert one(recording, KEY_RING).inputs["location"] == "europe-west3"
    assert recording.outputs["location"]["replica"] is None


def test_stateful_children_are_protected_and_retained_in_production_only(
    production: Recording, development: Recording
) -> None:
    for r in production.resources:
        # every custom resource but the provider, the key grant too: a destroy must not cut the bucket off its key
        expected = r.custom and not r.type.startswith("pulumi:providers:")
        assert (r.protect, r.retain_on_delete) == (expected, expected), r.name
    assert not any(r.protect or r.retain_on_delete for r in development.resources)


@pytest.mark.parametrize(("store", "locked"), [({}, False), ({"lockMode": "compliance"}, True)])
def test_the_retention_policy_is_locked_only_under_compliance(store: dict[str, Any], locked: bool) -> None:
    recording = run_store("development", **store)
    assert one(recording, BUCKET).inputs["retentionPolicy"]["isLocked"] is locked


def _violations(recording: Recording, environment: str) -> list[tuple[str, str]]:
    from factory_policies.settings import pack_config  # noqa: PLC0415 - the pack's path comes from conftest

    policies = load_policies(ROOT / "policy")
    verdicts = evaluate(policies, recording, config=pack_config(policies, environment=environment))
    return [(v.policy, v.message) for verdict in verdicts for v in verdict.violations]


@pytest.mark.parametrize("environment", ["production", "development"])
def test_the_policy_pack_finds_nothing_wrong(environment: str, production: Recording, development: Recording) -> None:
    recording = production if environment == "production" else development
    assert _violations(recording, environment) == []


def _unlocked(bucket: Registration) -> None:
    bucket.inputs["retentionPolicy"]["isLocked"] = False


def _unprotected(bucket: Registration) -> None:
    bucket.protect = False


def _google_managed_key(bucket: Registration) -> None:
    del bucket.inputs["encryption"]


def _public_access_inherited(bucket: Registration) -> None:
    bucket.inputs["publicAccessPrevention"] = "inherited"


@pytest.mark.parametrize(
    ("mutate", "policy"),
    [
        (_unlocked, "gcs-retention-policy"),
        (_unprotected, "backup-store-protected"),
        (_google_managed_key, "gcs-customer-managed-key"),
        (_public_access_inherited, "gcs-public-access-prevention"),
    ],
)
def test_the_policy_pack_catches_a_mutated_bucket(
    production: Recording, mutate: Callable[[Registration], None], policy: str
) -> None:
    mutated = copy.deepcopy(production)
    mutate(one(mutated, BUCKET))
    assert {found for found, _ in _violations(mutated, "production")} == {policy}


@pytest.mark.parametrize("factory", [LONGEST_FACTORY, "x1", "google-plant", "g00gle", "plant-9"])
def test_bucket_names_are_valid_gcs_names(factory: str) -> None:
    name = bucket_name(PROJECT, factory)
    assert GCS_BUCKET_NAME.match(name) and len(name) <= 63, name
    assert not re.search(r"g[o0]{2}g", name)
    assert name == bucket_name(PROJECT, factory)  # the same on every run


def test_long_factory_names_that_share_a_prefix_get_distinct_buckets() -> None:
    twin = LONGEST_FACTORY[:-1] + "z"
    assert bucket_name(PROJECT, LONGEST_FACTORY) != bucket_name(PROJECT, twin)
    assert bucket_name(PROJECT, FACTORY) != bucket_name("other-project-1", FACTORY)


def test_a_63_character_factory_registers_valid_names_and_labels() -> None:
    recording = run_store("development", LONGEST_FACTORY)
    bucket, ring = one(recording, BUCKET).inputs, one(recording, KEY_RING).inputs
    assert GCS_BUCKET_NAME.match(bucket["name"]) and len(bucket["name"]) <= 63
    assert re.match(r"^[a-zA-Z0-9_-]{1,63}$", ring["name"])
    assert all(len(value) <= 63 for value in bucket["labels"].values())


@pytest.mark.parametrize(
    ("location", "kms", "redundant"),
    [("EUROPE-WEST3", "europe-west3", False), ("EUR4", "eur4", True), ("NAM4", "nam4", True), ("EU", "europe", True)],
)
def test_the_key_ring_follows_the_buckets_location(location: str, kms: str, redundant: bool) -> None:
    assert (kms_location(location), geo_redundant(location)) == (kms, redundant)


def test_a_dual_region_whose_key_location_is_unknown_is_refused() -> None:
    with pytest.raises(ValueError, match="EUR5"):
        kms_location("EUR5")


def test_a_writer_may_create_read_and_list_under_its_prefix_only() -> None:
    def program() -> None:
        store = _store("production")
        owner = pulumi.ComponentResource("factory:index:Writer", "velero")
        grant_writer(owner, "velero", store.location, WRITER, "clusters/edge-1")

    recording = _run(program, "production")
    grants = recording.of_type(BUCKET_MEMBER)
    bucket = bucket_name(PROJECT, FACTORY)
    assert {g.inputs["role"] for g in grants} == {"roles/storage.objectCreator", "roles/storage.objectViewer"}
    objects = f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/clusters/edge-1/")'
    listing = 'api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("clusters/edge-1/")'
    expressions = {g.inputs["role"]: g.inputs["condition"]["expression"] for g in grants}
    assert expressions == {
        "roles/storage.objectCreator": objects,
        "roles/storage.objectViewer": f"{objects} || {listing}",
    }
    owner, provider = one(recording, "factory:index:Writer"), one(recording, PROVIDER)
    for grant in grants:
        assert (grant.inputs["bucket"], grant.inputs["member"]) == (bucket, WRITER)
        assert (grant.parent, grant.provider_urn) == (owner.urn, provider.urn)
    # nothing else for the writer: no key role (the service agent encrypts), no project-level grant
    assert [r.inputs["member"] for r in recording.of_type(KEY_MEMBER)] == [f"serviceAccount:{AGENT}"]
    assert {r.type for r in recording.resources} - {BUCKET_MEMBER, "factory:index:Writer"} == {
        "factory:index:GcpBackupStore",
        PROVIDER,
        BUCKET,
        KEY_RING,
        KEY,
        KEY_MEMBER,
    }


@pytest.mark.parametrize("prefix", ["", "/", "Velero", "velero/../other", 'velero") || true || ("', "a//b"])
def test_a_writer_prefix_that_could_widen_the_condition_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="writer prefix"):
        writer_folder(prefix)


def test_writer_prefixes_end_in_one_slash() -> None:
    assert writer_folder("velero") == writer_folder("velero/") == "velero/"


def test_a_writer_needs_the_stores_own_location_and_a_real_identity() -> None:
    owner = cast(pulumi.Resource, object())  # refused before anything is registered
    bucket, key = pulumi.Output.from_input("b"), pulumi.Output.from_input("k")
    bare = StoreLocation(cloud="gcp", bucket=bucket, region="EUR4", key=key)
    with pytest.raises(TypeError, match="GcpStoreLocation"):
        grant_writer(owner, "velero", bare, WRITER, "velero")
    public = GcpStoreLocation(cloud="gcp", bucket=bucket, region="EUR4", key=key, provider=cast(Any, object()))
    with pytest.raises(ValueError, match="cannot write backups"):
        grant_writer(owner, "velero", public, "allUsers", "velero")
