"""Config of the encrypted etcd snapshots of k3s/RKE2 clusters (`backup.etcd`): who can read them (public keys
only), how often the distribution takes one, how many it keeps on each server, and which store receives them.

The program only ever sees PUBLIC keys: an age recipient (`age1…`) or an armored OpenPGP public key block. A
private key pasted here by mistake is refused with the position of the key named and its text never repeated
(a config error is printed and logged), so it cannot end up in the stack's state or in a plan.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from components.config.problems import Problems
from components.config.schedule import Cron
from components.config.types import CloudRegion, HttpsUrl, StrictModel

# age's X25519 recipient: "age1" + 58 Bech32 characters (filippo.io/age, x25519.go: the Bech32 HRP "age" and a
# 32-byte key; Bech32 spells no 1, b, i or o after the separator)
AGE_RECIPIENT_RE = re.compile(r"^age1[02-9ac-hj-np-z]{58}$")
PGP_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
PGP_END = "-----END PGP PUBLIC KEY BLOCK-----"
# what a private key looks like in any form a person may paste: age's identity, an OpenPGP secret key block,
# an SSH or PEM private key. Matched anywhere in the value, case-insensitively (age accepts lower-case
# identities, and a key pasted inside a larger block is still a leak)
PRIVATE_KEY_RE = re.compile(
    r"AGE-SECRET-KEY-|AGE-PLUGIN-[A-Z0-9]+-|BEGIN PGP PRIVATE KEY BLOCK|BEGIN [A-Z ]*PRIVATE KEY", re.IGNORECASE
)
Scheme = Literal["age", "openpgp"]
StoreName = Literal["aws", "site"]


def recipient(value: str) -> str:
    """A public key the snapshots are encrypted to; a private key is refused without repeating it."""
    if PRIVATE_KEY_RE.search(value):
        raise ValueError(
            "this is a PRIVATE key (its text is not repeated here): list only public keys — an age recipient "
            "`age1…` (`age-keygen -y key.txt` prints it) or an armored OpenPGP PUBLIC key block (`gpg --armor "
            "--export <id>`). Keep the private key offline with the people who restore; if it was committed, "
            "treat it as exposed and make a new one"
        )
    text = value.strip()
    if AGE_RECIPIENT_RE.match(text):
        return text
    if text.startswith(PGP_BEGIN) and text.endswith(PGP_END):
        return text
    shown = text if len(text) <= 40 else text[:37] + "..."
    raise ValueError(
        f"'{shown}' is not a public key this program can encrypt to: use an age X25519 recipient "
        f"(age1 followed by 58 characters) or an armored OpenPGP public key ({PGP_BEGIN} … {PGP_END})"
    )


Recipient = Annotated[str, AfterValidator(recipient)]


def scheme_of(key: str) -> Scheme:
    return "age" if key.startswith("age1") else "openpgp"


class SiteStoreConfig(StrictModel):
    endpoint: HttpsUrl = Field(description="The plant's S3-compatible endpoint, e.g. https://s3.plant.example:9000.")
    bucket: Annotated[str, Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")] = Field(
        description="Bucket the snapshots go to (object lock on, like the cloud stores, is strongly advised)."
    )
    region: CloudRegion = Field(default="us-east-1", description="Region the endpoint signs requests for.")


class EtcdSnapshotConfig(StrictModel):
    recipients: list[Recipient] = Field(
        min_length=1,
        description=(
            "Public keys every snapshot is encrypted to before it leaves the server: age recipients (`age1…`) or "
            "armored OpenPGP public keys, all of one kind. Whoever holds one matching private key can restore; "
            "list at least two held apart (a lost key is a lost backup). Private keys are refused."
        ),
    )
    schedule: Cron = Field(
        default="0 */6 * * *",
        description=(
            "When the distribution takes a snapshot: cron, in the servers' own time zone (k3s/RKE2 read the "
            "schedule in node time; keep the servers on the plant's `factory.timezone`)."
        ),
    )
    retention: int = Field(
        default=5, ge=1, le=100, description="Snapshots each server keeps locally; the store keeps its own copies."
    )
    store: StoreName = Field(
        default="aws",
        description="Where the encrypted snapshots go: the factory's AWS store (`backup.aws`) or `site` (`siteStore`).",
    )
    site_store: SiteStoreConfig | None = Field(
        default=None, description="The plant's own S3-compatible store, when `store` is `site`."
    )

    @property
    def scheme(self) -> Scheme:
        """The tool that encrypts: age for age recipients, gpg for OpenPGP keys (the model allows one kind)."""
        return scheme_of(self.recipients[0])

    @model_validator(mode="after")
    def _one_kind_of_key(self) -> EtcdSnapshotConfig:
        # one snapshot is one file encrypted by one tool: age cannot encrypt to an OpenPGP key, nor gpg to age's
        kinds = {scheme_of(key) for key in self.recipients}
        if len(kinds) > 1:
            raise ValueError(
                "recipients mixes age and OpenPGP keys: a snapshot is encrypted by one tool to keys of its kind; "
                "list keys of one kind (people with the other kind can make an age key with `age-keygen`)"
            )
        if len(set(self.recipients)) != len(self.recipients):
            raise ValueError("recipients lists a key more than once")
        return self

    @model_validator(mode="after")
    def _site_store_when_site(self) -> EtcdSnapshotConfig:
        if (self.store == "site") != (self.site_store is not None):
            raise ValueError("set `siteStore` exactly when `store` is `site`")
        return self


def check_etcd(etcd: EtcdSnapshotConfig | None, aws_store_declared: bool, problems: Problems) -> None:
    """Cross-check with the rest of `backup`: the AWS store the snapshots go to must be declared."""
    if etcd is not None and etcd.store == "aws" and not aws_store_declared:
        problems.add(
            ("backup", "etcd", "store"),
            "'aws' names the AWS store, and `backup.aws` is not declared: declare it or use `site` with `siteStore`",
        )
