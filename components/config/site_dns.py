"""`site.dns`: where the cluster DNS of a k3s/RKE2 cluster sends the names it does not answer itself.

CoreDNS answers `cluster.local` from the API and forwards everything else upstream: any pod that may reach it can
carry data out in the names it asks for (DNS tunnelling: `<chunk>.<attacker's domain>` is answered by the
attacker's name server, whoever relays it). With `site.dns`, CoreDNS forwards the plant's own zones to the
plant's name servers and every other name to the site's filtering resolvers only, which decide what resolves
(components/security/dns.py renders the settings, `make plan` writes them to build/<stack>/node-config/).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from components.config.problems import Problems, field, present
from components.config.types import StrictModel

# the distributions whose CoreDNS the platform team configures (managed clusters: docs/security.md)
SELF_MANAGED_DNS = ("k3s", "rke2")
CLUSTER_DOMAIN = "cluster.local"
MAX_UPSTREAMS = 15  # CoreDNS's forward plugin takes at most 15 upstreams
# k3s's CoreDNS reads its upstreams from the resolv.conf the kubelet builds for it, which keeps three nameservers
MAX_RESOLVERS = 3
ZONE_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")


def resolver_address(value: str) -> str:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"'{value}' is not an IP address (a resolver is named by address, not by name)") from None
    if address.is_loopback or address.is_link_local or address.is_multicast or address.is_unspecified:
        raise ValueError(
            f"'{value}' is a loopback, link-local, multicast or unspecified address: CoreDNS runs in a pod, where "
            "such an address is not the node's resolver"
        )
    return value


def zone_name(value: str) -> str:
    if not ZONE_RE.match(value):
        raise ValueError(
            f"'{value}' is not a DNS zone such as 'plant.example.com' (lowercase labels separated by dots, no "
            "trailing dot)"
        )
    if value == CLUSTER_DOMAIN or value.endswith(f".{CLUSTER_DOMAIN}"):
        raise ValueError(f"'{value}' is the cluster's own domain, which CoreDNS answers from the Kubernetes API")
    return value


Resolver = Annotated[str, AfterValidator(resolver_address)]
Upstreams = Annotated[list[Resolver], Field(min_length=1, max_length=MAX_UPSTREAMS)]
Resolvers = Annotated[list[Resolver], Field(min_length=1, max_length=MAX_RESOLVERS)]


class DnsZone(StrictModel):
    name: Annotated[str, AfterValidator(zone_name)] = Field(
        description="A zone of the plant, e.g. `plant.example.com`: its names are asked of `servers` only."
    )
    servers: Upstreams = Field(
        description="The plant's name servers for this zone (addresses). They should answer the zone only."
    )


class SiteDnsConfig(StrictModel):
    resolvers: Resolvers = Field(
        description=(
            "The site's filtering resolvers (addresses, at most 3: k3s's CoreDNS reads them from the resolv.conf "
            "the kubelet builds, which keeps three): every name outside `cluster.local` and `zones` is asked of "
            "them only. They decide what resolves: an allow-list or a response-policy zone stops DNS tunnelling, "
            "a plain recursive resolver does not."
        )
    )
    zones: list[DnsZone] = Field(
        default_factory=list, description="The plant's own zones and their name servers (answered before `resolvers`)."
    )

    @model_validator(mode="after")
    def _zones_unique(self) -> SiteDnsConfig:
        names = [zone.name for zone in self.zones]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"zones lists {', '.join(twice)} more than once")
        return self


def check_site_dns(
    environment: str | None, clusters: Sequence[object | None], dns: SiteDnsConfig | None, problems: Problems
) -> None:
    """A production stack with a k3s or RKE2 cluster says where its cluster DNS forwards."""
    if environment != "production" or dns is not None:
        return
    found = sorted({d for _, c in present(clusters) if (d := field(c, "distribution")) in SELF_MANAGED_DNS})
    if found:
        problems.add(
            ("site", "dns"),
            f"is required in production with {' and '.join(found)} clusters: without it CoreDNS forwards every name "
            "to whatever the nodes' resolv.conf names, and any pod that can ask it a name can tunnel data out through "
            "it; name the site's filtering resolvers (site.dns.resolvers) and the plant's zones (site.dns.zones)",
        )
