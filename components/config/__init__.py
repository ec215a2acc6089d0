"""The one input document of a factory: typed sections, their cross-checks, and the loader that reports
every problem at once. Capability packages keep their own section models in `<capability>/config.py`;
those modules belong to this layer and import nothing but it (docs/architecture.md)."""
