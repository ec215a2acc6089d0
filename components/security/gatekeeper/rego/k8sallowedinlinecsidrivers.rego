# Inline CSI volumes only from the allowed drivers (`allowedDrivers`, exact names; none by default). Pod
# Security 'restricted' allows any `csi` volume, and an inline volume reaches whatever its driver serves — a
# secrets-store driver any secret its provider can read, a node-local driver the node's disks — without the
# PersistentVolumeClaim, StorageClass and quota that govern ordinary storage. A Pod's volumes cannot change,
# so an UPDATE of a Pod is not judged (see workloads.immutable_pod_update); workload templates are.
package k8sallowedinlinecsidrivers

import data.lib.factory.workloads
import rego.v1

violation contains {"msg": msg} if {
	not workloads.immutable_pod_update
	spec := workloads.pod_spec(input.review.object)
	some volume in object.get(spec, "volumes", [])
	driver := volume.csi.driver
	not driver in object.get(input.parameters, "allowedDrivers", [])
	msg := sprintf("%v <%v> volume <%v> is an inline CSI volume of driver <%v>, which is not in the allowed drivers %v", [input.review.object.kind, input.review.object.metadata.name, volume.name, driver, object.get(input.parameters, "allowedDrivers", [])])
}
