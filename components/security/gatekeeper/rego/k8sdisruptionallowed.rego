# A PodDisruptionBudget lets at least one pod be evicted: `maxUnavailable: 0` (or "0%") and `minAvailable:
# "100%"` (or more) allow no voluntary disruption at all, so a node drain — every upgrade and repair of the
# cell — waits forever on the line's pods. Decided from the PDB alone: a `minAvailable` number equal to the
# selected workload's replicas needs that workload and is left to review. PDBs can change: UPDATEs are judged.
package k8sdisruptionallowed

import rego.v1

violation contains {"msg": msg} if {
	input.review.object.kind == "PodDisruptionBudget"
	value := input.review.object.spec.maxUnavailable
	zero(value)
	msg := sprintf("PodDisruptionBudget <%v> sets maxUnavailable <%v>: no pod may ever be evicted, so node drains and upgrades block; allow at least 1", [input.review.object.metadata.name, value])
}

violation contains {"msg": msg} if {
	input.review.object.kind == "PodDisruptionBudget"
	value := input.review.object.spec.minAvailable
	is_string(value)
	whole(value)
	msg := sprintf("PodDisruptionBudget <%v> sets minAvailable <%v>: no pod may ever be evicted, so node drains and upgrades block; use a count below the replicas, or a lower percentage", [input.review.object.metadata.name, value])
}

zero(0)

zero(value) if {
	is_string(value)
	regex.match(`^0+%$`, value)
}

# "100%" or more (the API refuses more; judged all the same)
whole(value) if {
	regex.match(`^[0-9]+%$`, value)
	to_number(trim_suffix(value, "%")) >= 100
}
