# A line's pods are placed by the scheduler, on the nodes meant for workloads: no `nodeName` (it bypasses the
# scheduler, and with it every taint, quota of node resources and topology rule), no toleration of the
# control-plane taints (`forbiddenTolerationKeys`), and no toleration of every taint (operator Exists without a
# key). An UPDATE of a Pod does not judge nodeName (the scheduler sets it through pods/binding, and it never
# changes after) and judges only the tolerations the Pod gains (the only change a Pod's tolerations allow).
package k8slinescheduling

import data.lib.factory.workloads
import rego.v1

violation contains {"msg": msg} if {
	not workloads.immutable_pod_update
	spec := workloads.pod_spec(input.review.object)
	node := object.get(spec, "nodeName", "")
	node != ""
	msg := sprintf("%v <%v> sets nodeName <%v>: it bypasses the scheduler; select nodes with labels and let it place the pods", [input.review.object.kind, input.review.object.metadata.name, node])
}

violation contains {"msg": msg} if {
	some toleration in judged_tolerations
	key := object.get(toleration, "key", "")
	key in input.parameters.forbiddenTolerationKeys
	msg := sprintf("%v <%v> tolerates the control-plane taint <%v>: line workloads do not run on control-plane nodes", [input.review.object.kind, input.review.object.metadata.name, key])
}

violation contains {"msg": msg} if {
	some toleration in judged_tolerations
	object.get(toleration, "key", "") == ""
	object.get(toleration, "operator", "Equal") == "Exists"
	msg := sprintf("%v <%v> tolerates every taint (operator Exists without a key), the control plane's and every drained node's included", [input.review.object.kind, input.review.object.metadata.name])
}

judged_tolerations contains toleration if {
	not workloads.immutable_pod_update
	spec := workloads.pod_spec(input.review.object)
	some toleration in object.get(spec, "tolerations", [])
}

judged_tolerations contains toleration if {
	workloads.immutable_pod_update
	some toleration in object.get(input.review.object, ["spec", "tolerations"], [])
	not toleration in object.get(input.review, ["oldObject", "spec", "tolerations"], [])
}
