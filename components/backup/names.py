"""The names Velero's objects have on every cluster, shared by the wiring that creates them (components/backup/
recovery.py) and the recovery procedures that address them (offline/recovery/).

- One BackupStorageLocation per backup store, named after the store's cloud: `aws`, `gcp`, `azure`.
- One Schedule per backup policy and location: `<policy>-<cloud>`. A backup goes to one location only, so each
  location has its own Schedule.
- Inside a store each cluster writes under its own prefix `velero/<cluster>`: Schedule names repeat on every
  cluster of a factory, and Velero picks a schedule's newest backup among all it finds in a location, so two
  clusters sharing a prefix would restore each other's backups.
"""

from __future__ import annotations

from components.backup.config import CLOUDS, Cloud

PREFIX_ROOT = "velero"


def location_name(cloud: Cloud) -> str:
    """The BackupStorageLocation of the store on `cloud`."""
    if cloud not in CLOUDS:
        raise ValueError(f"'{cloud}' is not a backup cloud (one of {', '.join(CLOUDS)})")
    return cloud


def schedule_name(policy: str, cloud: Cloud) -> str:
    """The Schedule that backs up `policy`'s lines into the store on `cloud`."""
    return f"{policy}-{location_name(cloud)}"


def location_prefix(cluster: str) -> str:
    """Where one cluster's Velero keeps its backups inside a store (the BackupStorageLocation's `prefix`)."""
    return f"{PREFIX_ROOT}/{cluster}"
