"""The names Velero's objects have on every cluster: what the backup wiring creates and what the recovery
procedures address. Defined once here, imported by both; a rename is a change to this module only.

- Velero runs in the namespace `velero` (components/backup/velero.py).
- One BackupStorageLocation per backup store, named after the store's cloud: `aws`, `gcp`, `azure`.
- One Schedule per backup policy and location: `<policy>-<cloud>` (policy `critical-lines` writing to the GCS
  store is `critical-lines-gcp`). A backup goes to one location only, so each location has its own Schedule.
- A line's namespace is `line-<line>` (components/core/vocabulary.py).
- The platform's namespaces are components/inventory.platform_namespaces(): Kubernetes' own and every namespace
  the add-on catalogue can place an add-on in.
- Inside a store each cluster writes under its own prefix `velero/<cluster>`: Schedule names repeat on every
  cluster of a factory, and Velero picks a schedule's newest backup among all it finds in a location, so two
  clusters sharing a prefix would restore each other's backups.

The store-side names (locations, schedules, prefixes) are components/backup/names.py's, which the wiring uses;
this module adds what only the procedures address. It only names things: no Pulumi resource, no cloud SDK.
"""

from __future__ import annotations

from components.backup.names import PREFIX_ROOT, location_name, location_prefix, schedule_name
from components.backup.velero import NAMESPACE
from components.core import vocabulary as vocab

__all__ = ["PREFIX_ROOT", "location_name", "location_prefix", "schedule_name"]

VELERO_NAMESPACE = NAMESPACE  # "velero"
BACKUP_STORAGE_LOCATION = "backupstoragelocation"  # the resource kubectl addresses (velero.io/v1)
READ_ONLY = "ReadOnly"
READ_WRITE = "ReadWrite"
# the label Velero puts on every backup a Schedule takes (pkg/apis/velero/v1/labels_annotations.go)
SCHEDULE_LABEL = "velero.io/schedule-name"


def line_namespace(line: str) -> str:
    return vocab.LINE_NAMESPACE_PREFIX + line


def line_of(namespace: str) -> str | None:
    """The line a namespace belongs to, or None for any other namespace."""
    prefix = vocab.LINE_NAMESPACE_PREFIX
    return namespace[len(prefix) :] if namespace.startswith(prefix) and len(namespace) > len(prefix) else None


def platform_namespaces() -> tuple[str, ...]:
    """Kubernetes' own namespaces and every platform add-on's (what no line owns)."""
    from components.inventory import platform_namespaces as namespaces  # noqa: PLC0415 - the catalogue is large

    return namespaces()


def access_mode_patch(location: str, mode: str) -> str:
    """The command that sets one BackupStorageLocation's access mode (Velero's CLI has no flag for it)."""
    body = '{"spec":{"accessMode":"%s"}}' % mode  # noqa: UP031 - the JSON braces would need doubling in an f-string
    return f"kubectl -n {VELERO_NAMESPACE} patch {BACKUP_STORAGE_LOCATION} {location} --type merge -p '{body}'"
