"""Where a store's copies can live: GCS locations and the Cloud KMS location their key must share, Azure regions
and the pair GZRS replicates to. Shared by the config check (a location a store cannot use is a config error with
its key, never a traceback) and the stores themselves."""

from __future__ import annotations

import re

REGION = re.compile(r"^[A-Z]+-[A-Z]+[0-9]+$")
MULTI_REGIONS = {"US": "us", "EU": "europe", "ASIA": "asia"}  # GCS multi-region -> KMS multi-region
PREDEFINED_DUAL_REGIONS = {"ASIA1": "asia1", "EUR4": "eur4", "NAM4": "nam4"}  # keys live in the same dual-region


def kms_location(location: str) -> str:
    """Where the bucket's key ring must be: Cloud Storage uses a CMEK only from the bucket's own location (a
    region's key in that region, a multi-region's in the matching KMS multi-region, a predefined dual-region's in
    that dual-region; components/backup/stores/gcp.py cites the rule)."""
    if REGION.match(location):
        return location.lower()
    found = MULTI_REGIONS.get(location) or PREDEFINED_DUAL_REGIONS.get(location)
    if found is None:
        known = ", ".join([*MULTI_REGIONS, *PREDEFINED_DUAL_REGIONS])
        raise ValueError(
            f"GCS location '{location}': a CMEK key ring must match it and this store knows the key location only "
            f"for regions (EUROPE-WEST3) and {known}"
        )
    return found


def geo_redundant(location: str) -> bool:
    """A dual- or multi-region bucket keeps every object in two regions: no replica bucket is needed."""
    return location in MULTI_REGIONS or location in PREDEFINED_DUAL_REGIONS


# the secondary region GZRS replicates to (learn.microsoft.com/azure/reliability/cross-region-replication-azure,
# "Azure paired regions"). A region missing here has no pair, so no GZRS.
_PAIRS = """
    eastasia:southeastasia australiaeast:australiasoutheast australiacentral:australiacentral2
    canadacentral:canadaeast chinanorth:chinaeast chinanorth2:chinaeast2 chinanorth3:chinaeast3
    northeurope:westeurope francecentral:francesouth germanywestcentral:germanynorth centralindia:southindia
    japaneast:japanwest koreacentral:koreasouth eastus:westus eastus2:centralus northcentralus:southcentralus
    westus2:westcentralus norwayeast:norwaywest uksouth:ukwest southafricanorth:southafricawest
    swedencentral:swedensouth switzerlandnorth:switzerlandwest uaenorth:uaecentral
"""
# the table's one-way pairs: the first region replicates to the second, not back
_ONE_WAY = "brazilsouth:southcentralus brazilsoutheast:brazilsouth westindia:southindia westus3:eastus"
PAIRED_REGION = {
    **{a: b for a, b in (p.split(":") for p in _PAIRS.split())},
    **{b: a for a, b in (p.split(":") for p in _PAIRS.split())},
    **{a: b for a, b in (p.split(":") for p in _ONE_WAY.split())},
}


def paired_region(location: str) -> str:
    if location not in PAIRED_REGION:
        raise ValueError(f"'{location}' has no region pair for GZRS to replicate to")
    return PAIRED_REGION[location]
