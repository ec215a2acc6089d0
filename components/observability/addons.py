"""The observability capability's share of the add-on catalogue, in install order."""

from __future__ import annotations

from components.catalogue.model import AddOn
from components.observability import fluent_bit, loki, node_exporter, prometheus

ADDONS: tuple[AddOn, ...] = (prometheus.ADDON, node_exporter.ADDON, loki.ADDON, fluent_bit.ADDON)
