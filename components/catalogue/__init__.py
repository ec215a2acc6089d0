"""The one add-on surface: every piece of third-party software a capability installs — a pinned chart or
manifests we render — with the same small description, resolved per cluster and installed one way."""
