# No ExternalName Services: one makes an in-cluster name (<service>.<namespace>.svc) a DNS alias (CNAME) for
# any host, so a line could point a name that platform components, egress proxies or other lines trust as
# in-cluster at a host of its choice, and get past segmentation that trusts such names. Services are
# mutable, so an UPDATE that changes the type is judged like a CREATE.
package k8sblockexternalname

import rego.v1

violation contains {"msg": msg} if {
	input.review.kind.kind == "Service"
	input.review.object.spec.type == "ExternalName"
	msg := sprintf("Service <%v> is of type ExternalName (an alias for <%v>), which is not allowed", [input.review.object.metadata.name, object.get(input.review.object.spec, "externalName", "")])
}
