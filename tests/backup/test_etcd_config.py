"""`backup.etcd`: only public keys, of one kind; a private key — as age-keygen really writes one — is refused
with its place named and its text never repeated; schedule, retention and store are checked with their keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from components.backup.etcd.config import EtcdSnapshotConfig, check_etcd
from components.config.problems import Problems
from tests.support.age_tool import age_keypair

RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
PGP = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----"


def _problems(raw: dict[str, Any]) -> list[str]:
    problems = Problems()
    with pytest.raises(ValidationError) as error:
        EtcdSnapshotConfig.model_validate(raw)
    problems.validation(error.value, EtcdSnapshotConfig, ("backup", "etcd"))
    return [str(p) for p in problems]


def test_defaults_take_a_snapshot_every_six_hours_and_keep_five() -> None:
    etcd = EtcdSnapshotConfig.model_validate({"recipients": [RECIPIENT]})
    assert (etcd.schedule, etcd.retention, etcd.store, etcd.scheme) == ("0 */6 * * *", 5, "aws", "age")
    assert EtcdSnapshotConfig.model_validate({"recipients": [f"  {PGP}\n"]}).recipients == [PGP]


def test_a_real_age_private_key_is_refused_without_repeating_it(tmp_path: Path) -> None:
    identity, recipient = age_keypair(tmp_path)
    secret = next(line for line in identity.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-"))
    for pasted in (secret, secret.lower(), identity.read_text()):
        [problem] = _problems({"recipients": [recipient, pasted]})
        assert problem.startswith("factory-floor:backup.etcd.recipients[1]: this is a PRIVATE key"), problem
        assert secret[15:].lower() not in problem.lower()


@pytest.mark.parametrize(
    "private",
    [
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlFgEZ\n-----END PGP PRIVATE KEY BLOCK-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE\n-----END OPENSSH PRIVATE KEY-----",
    ],
)
def test_other_private_keys_are_refused(private: str) -> None:
    [problem] = _problems({"recipients": [private]})
    assert "recipients[0]: this is a PRIVATE key" in problem and "lFgEZ" not in problem and "b3Bl" not in problem


@pytest.mark.parametrize(
    ("raw", "key", "says"),
    [
        ({"recipients": []}, "etcd.recipients", "at least 1"),
        ({"recipients": ["age1short"]}, "etcd.recipients[0]", "is not a public key this program can encrypt to"),
        ({"recipients": [RECIPIENT, PGP]}, "etcd", "mixes age and OpenPGP keys"),
        ({"recipients": [RECIPIENT, RECIPIENT]}, "etcd", "lists a key more than once"),
        ({"recipients": [RECIPIENT], "schedule": "0 */6 * *"}, "etcd.schedule", "five fields"),
        ({"recipients": [RECIPIENT], "retention": 0}, "etcd.retention", "1"),
        ({"recipients": [RECIPIENT], "store": "gcp"}, "etcd.store", "aws"),
        ({"recipients": [RECIPIENT], "store": "site"}, "etcd", "set `siteStore` exactly when `store` is `site`"),
        (
            {"recipients": [RECIPIENT], "siteStore": {"endpoint": "https://s3.plant.example", "bucket": "etcd"}},
            "etcd",
            "set `siteStore` exactly when",
        ),
        (
            {"recipients": [RECIPIENT], "store": "site", "siteStore": {"endpoint": "http://s3", "bucket": "etcd"}},
            "etcd.siteStore.endpoint",
            "https://",
        ),
    ],
)
def test_an_invalid_setting_names_its_key(raw: dict[str, Any], key: str, says: str) -> None:
    problems = _problems(raw)
    assert any(p.startswith(f"factory-floor:backup.{key}: ") and says in p for p in problems), problems


def test_a_site_store_is_accepted() -> None:
    site = {"endpoint": "https://s3.plant.example:9000", "bucket": "etcd-snapshots"}
    etcd = EtcdSnapshotConfig.model_validate({"recipients": [RECIPIENT], "store": "site", "siteStore": site})
    assert etcd.site_store is not None and etcd.site_store.region == "us-east-1"


def test_the_aws_store_must_be_declared() -> None:
    etcd = EtcdSnapshotConfig.model_validate({"recipients": [RECIPIENT]})
    problems = Problems()
    check_etcd(etcd, aws_store_declared=False, problems=problems)
    assert [str(p) for p in problems] == [
        "factory-floor:backup.etcd.store: 'aws' names the AWS store, and `backup.aws` is not declared: declare it "
        "or use `site` with `siteStore`"
    ]
    fine = Problems()
    check_etcd(etcd, aws_store_declared=True, problems=fine)
    assert not list(fine)
