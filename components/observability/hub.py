"""The hub's bearer token (`observability.hub.remoteKey`), one rule for every add-on that sends to the hub
(Prometheus, Fluent Bit, the OpenTelemetry collector): each gets it from its own Vault folder, only when it sends to
the hub and there is a Vault — never when it sends elsewhere, such as a trace backend the plant names itself."""

from __future__ import annotations

from components.catalogue.model import ClusterContext
from components.catalogue.secrets import AddonSecret

TOKEN_KEY = "token"  # the Vault field and the Kubernetes Secret's key


def token_secret(ctx: ClusterContext, addon: str, namespace: str, secret: str, *, sends: bool) -> AddonSecret | None:
    """The Secret `secret` in `namespace` holding the hub's token for `addon`, or None: it does not send to the hub
    (`sends`), the hub wants no token, or there is no Vault to deliver it (the config check refuses a key then)."""
    key = ctx.factory.observability.hub.remote_key
    if not sends or key is None or ctx.factory.security.vault is None:
        return None
    return AddonSecret(addon, namespace, secret, TOKEN_KEY, key, TOKEN_KEY)
