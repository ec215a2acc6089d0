"""The observability capability's share of the add-on catalogue, in install order."""

from __future__ import annotations

from components.catalogue.model import AddOn
from components.observability import blackbox, fluent_bit, jaeger, loki, node_exporter, otel_operator, prometheus

ADDONS: tuple[AddOn, ...] = (
    prometheus.ADDON,
    node_exporter.ADDON,
    loki.ADDON,
    fluent_bit.ADDON,
    jaeger.ADDON,
    otel_operator.ADDON,
    blackbox.ADDON,
)
