"""The verification capability's share of the add-on catalogue, in install order: the listener first, the
canary (whose Job tests the listener's zone) after it."""

from __future__ import annotations

from components.catalogue.model import AddOn
from components.verification.canary import CANARY_ENTRY, LISTENER_ENTRY

ADDONS: tuple[AddOn, ...] = (LISTENER_ENTRY, CANARY_ENTRY)
