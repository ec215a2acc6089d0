# Pods do not share the node's PID, IPC or network namespace (PSS baseline; IEC 62443 SR 5.1 zone isolation).
# An UPDATE of a Pod is not judged: these fields are immutable on a Pod, so refusing the update would only
# block the metadata changes its deletion and controller need (see lib workloads.immutable_pod_update).
package k8spsphostnamespace

import data.lib.factory.workloads
import rego.v1

violation contains {"msg": msg} if {
	not workloads.immutable_pod_update
	spec := workloads.pod_spec(input.review.object)
	some field in ["hostPID", "hostIPC", "hostNetwork"]
	spec[field] == true
	msg := sprintf("%v <%v> sets %v: true; sharing host namespaces is not allowed", [input.review.object.kind, input.review.object.metadata.name, field])
}
