"""The security capability's share of the add-on catalogue, in install order: admission control first (its
own component, the cluster's install gate), then the baseline."""

from __future__ import annotations

from components.catalogue.model import AddOn
from components.security import falco, k8saudit, kube_bench, trivy
from components.security.gatekeeper import addon as gatekeeper
from components.security.secrets import addon as external_secrets

ADMISSION_ADDONS: tuple[AddOn, ...] = (gatekeeper.ADDON, gatekeeper.PROBE)
BASELINE_ADDONS: tuple[AddOn, ...] = (
    external_secrets.ADDON,
    falco.ADDON,
    k8saudit.ADDON,
    trivy.ADDON,
    kube_bench.ADDON,
)

ADDONS: tuple[AddOn, ...] = (*ADMISSION_ADDONS, *BASELINE_ADDONS)
