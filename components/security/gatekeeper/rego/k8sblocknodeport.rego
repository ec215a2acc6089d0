# A NodePort opens every node of the cell to the plant network; lines expose services through the gateway.
package k8sblocknodeport

import rego.v1

violation contains {"msg": msg} if {
	input.review.object.kind == "Service"
	input.review.object.spec.type == "NodePort"
	msg := sprintf("Service <%v> is of type NodePort, which is not allowed", [input.review.object.metadata.name])
}
