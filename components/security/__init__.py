"""The zero-trust baseline of a cluster: admission (gatekeeper/), secrets (secrets/), runtime detection,
scanning and CIS benchmarks, and the SecurityBaseline component that installs them."""
