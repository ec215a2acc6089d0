# Shared by every factory-floor ConstraintTemplate (shipped as the template's `libs`): finds the pod spec
# of a Pod or of any workload that templates pods, so one constraint judges the Deployment a team applies
# rather than only the Pods its controller creates later.
package lib.factory.workloads

import rego.v1

pod_spec(obj) := obj.spec if obj.kind == "Pod"

pod_spec(obj) := obj.spec.template.spec if obj.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

pod_spec(obj) := obj.spec.jobTemplate.spec.template.spec if obj.kind == "CronJob"

# every container of the pod spec, with the field it came from (for messages)
containers contains {"field": field, "container": c} if {
	spec := pod_spec(input.review.object)
	some field in ["containers", "initContainers", "ephemeralContainers"]
	some c in spec[field]
}

# only long-running containers: probes make no sense for init or ephemeral containers
app_containers contains c if {
	spec := pod_spec(input.review.object)
	some c in spec.containers
}
