# No Service claims external IPs (CVE-2020-8554): kube-proxy programs every node to send traffic for a
# Service's spec.externalIPs to its endpoints, so a line could capture traffic the nodes and platform send to
# any address (the API server, etcd peers, Vault). Same parameter and meaning as the gatekeeper-library
# template: `allowedIPs` lists the addresses a Service may claim, matched exactly (none when absent).
# Services are mutable, so an UPDATE that adds an address is judged like a CREATE.
package k8sexternalips

import rego.v1

violation contains {"msg": msg} if {
	input.review.kind.kind == "Service"
	allowed := {ip | some ip in object.get(input, ["parameters", "allowedIPs"], [])}
	claimed := {ip | some ip in object.get(input.review.object, ["spec", "externalIPs"], [])}
	forbidden := claimed - allowed
	count(forbidden) > 0
	msg := sprintf("Service <%v> has forbidden external IPs: %v", [input.review.object.metadata.name, sort([ip | some ip in forbidden])])
}
