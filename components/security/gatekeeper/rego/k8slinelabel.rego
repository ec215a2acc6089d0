# A line's workloads say which line they belong to, truthfully: in the namespace "<namespacePrefix><line>" the
# object, its pod template and a CronJob's job template carry `label: <line>` — so metrics, alerts, costs and
# audit records a workload produces are attributed to its own line and never borrow another's name. Other
# namespaces are not judged. Labels can change, so UPDATEs are judged — except an UPDATE of a Pod that leaves
# the label as it was: refusing it would only block the metadata changes its controllers and deletion need
# (the Job controller removes its finalizer that way) for a Pod admitted before; the audit still reports it.
package k8slinelabel

import data.lib.factory.workloads
import rego.v1

violation contains {"msg": msg} if {
	line := workloads.line(input.parameters.namespacePrefix)
	not unchanged_pod_update
	some place in workloads.labelled
	not place.labels[input.parameters.label]
	msg := sprintf("%v <%v> in %v: its %vlabels have no <%v>; set it to <%v>", [input.review.object.kind, input.review.object.metadata.name, workloads.namespace, place.where, input.parameters.label, line])
}

violation contains {"msg": msg} if {
	line := workloads.line(input.parameters.namespacePrefix)
	not unchanged_pod_update
	some place in workloads.labelled
	value := place.labels[input.parameters.label]
	value != line
	msg := sprintf("%v <%v> in %v: its %vlabel <%v: %v> names another line; it must be <%v>", [input.review.object.kind, input.review.object.metadata.name, workloads.namespace, place.where, input.parameters.label, value, line])
}

unchanged_pod_update if {
	workloads.immutable_pod_update
	label := input.parameters.label
	object.get(input.review.object, ["metadata", "labels", label], "") == object.get(input.review, ["oldObject", "metadata", "labels", label], "")
}
