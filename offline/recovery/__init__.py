"""Recovery procedures generated from a stack's config (`python -m offline.recover`, docs/disaster-recovery.md).

- `conventions`: the names the Velero wiring and the runbooks share (namespace, locations, schedules).
- `choice`: which backup location a scenario restores from, and which schedule holds each line.
- `procedure`: the ordered steps of each scenario, their assumed durations, and the text users copy from.
"""
