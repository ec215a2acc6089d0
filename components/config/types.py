"""Building blocks of every config model: the strict base model, name rules and value vocabularies."""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

PROJECT = "factory-floor"
# How a secret config value reaches validation: only its presence matters, never its text.
REDACTED = "[secret]"

# Kubernetes minor versions we plan for: inside what kubernetes-validate ships schemas for and what the
# upstream project still patches (plus the two releases edge distributions lag behind).
SUPPORTED_KUBERNETES_MINORS = range(29, 38)

DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CONFIG_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def dns_label(max_length: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if len(value) > max_length or not DNS_LABEL_RE.match(value):
            raise ValueError(
                f"'{value}' is not a valid name: use a DNS label of at most {max_length} characters "
                "(lowercase letters, digits and '-', starting and ending with a letter or digit)"
            )
        return value

    return check


def timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{value}' is not an IANA time zone (for example 'Europe/Berlin')") from None
    return value


def kubernetes_version(value: str) -> str:
    match = re.fullmatch(r"1\.(\d+)", value)
    lowest, highest = SUPPORTED_KUBERNETES_MINORS[0], SUPPORTED_KUBERNETES_MINORS[-1]
    if not match or int(match.group(1)) not in SUPPORTED_KUBERNETES_MINORS:
        raise ValueError(f"'{value}' is not a supported Kubernetes minor version: use '1.{lowest}' to '1.{highest}'")
    return value


def pattern(regex: re.Pattern[str], allowed: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not regex.match(value):
            raise ValueError(f"'{value}' is not allowed here: {allowed}")
        return value

    return check


Name = Annotated[str, AfterValidator(dns_label(63))]
Port = Annotated[int, Field(ge=1, le=65535)]
ConfigKey = Annotated[str, AfterValidator(pattern(CONFIG_KEY_RE, "a config key name (letters, digits, '-', '_')"))]
HttpsUrl = Annotated[
    str, AfterValidator(pattern(re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/\S*)?$"), "an https:// URL"))
]
Uuid = Annotated[
    str,
    AfterValidator(
        pattern(re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"), "a lowercase UUID")
    ),
]
CloudRegion = Annotated[str, AfterValidator(pattern(re.compile(r"^[a-z0-9-]+$"), "a cloud region like eu-central-1"))]
VaultPath = Annotated[
    str,
    AfterValidator(
        pattern(re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"), "a Vault path without slashes at the ends")
    ),
]

Distribution = Literal["k3s", "rke2", "eks", "gke", "aks", "generic"]
Profile = Literal["edge-small", "edge-ha", "site", "cloud"]
Criticality = Literal["standard", "high", "critical"]
Environment = Literal["production", "staging", "development"]
MANAGED_DISTRIBUTIONS = frozenset({"eks", "gke", "aks"})


class StrictModel(BaseModel):
    """Unknown keys are errors, keys are camelCase as in every Pulumi stack file, values are frozen, and types
    are strict: a quoted number is not a number, 1.30 unquoted is not the text "1.30"."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        frozen=True,
        strict=True,
    )


def cidr(value: str) -> str:
    """A CIDR block as Kubernetes' NetworkPolicy ipBlock and cloud policies take it: prefix length written, host
    bits zero."""
    try:
        if "/" not in value:
            raise ValueError(value)  # Kubernetes' ipBlock takes CIDR notation only
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError(
            f"'{value}' is not a CIDR block: write an address with its prefix length, host bits zero "
            "(e.g. '10.43.0.1/32', '192.168.10.0/24', 'fd00::/64')"
        ) from None
    return value


Cidr = Annotated[str, AfterValidator(cidr)]
