"""Add-on entries of the catalogue, one module each; `CATALOGUE` is the table every cluster draws from."""

from components.addons import external_secrets, falco, gatekeeper, trivy_operator
from components.catalogue import AddOn

CATALOGUE: dict[str, AddOn] = {
    addon.name: addon for addon in (gatekeeper.ADDON, external_secrets.ADDON, falco.ADDON, trivy_operator.ADDON)
}
