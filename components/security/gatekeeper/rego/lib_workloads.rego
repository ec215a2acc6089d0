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

# the containers that can declare resources: the API refuses resources on ephemeral containers, so
# asking them for requests or limits would refuse every `kubectl debug`
resource_containers contains c if {
	spec := pod_spec(input.review.object)
	some field in ["containers", "initContainers"]
	some c in spec[field]
}

# An UPDATE of a Pod cannot change its host namespaces or its probes: those pod fields are immutable.
# Judging such an UPDATE makes nothing safer, but once a constraint moves to `deny` it would refuse every
# label, annotation or finalizer change of a Pod admitted before, which blocks its deletion and its
# controller. Templates judging immutable pod fields skip this review. The audit sends no operation, so
# existing Pods are still reported; a workload's pod template can change, so its UPDATEs stay judged.
immutable_pod_update if {
	input.review.operation == "UPDATE"
	input.review.object.kind == "Pod"
}

# The namespace of the reviewed object: the admission request's (the API server takes it from the request's
# URL), else the object's own (the audit sends no request namespace).
namespace := input.review.namespace if {
	input.review.namespace != ""
} else := object.get(input.review.object, ["metadata", "namespace"], "")

# The production line whose namespace is under review: "<prefix><line>" (the constraint passes the prefix the
# program names its line namespaces with); undefined in any other namespace.
line(prefix) := trim_prefix(namespace, prefix) if {
	startswith(namespace, prefix)
	namespace != prefix
}

# the pod template of a workload kind (a Pod has none: it is the pod)
pod_template(obj) := obj.spec.template if obj.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

pod_template(obj) := obj.spec.jobTemplate.spec.template if obj.kind == "CronJob"

# Every set of labels the reviewed object hands on: its own, its pod template's (the pods its controller
# creates carry them) and a CronJob's job template's (the Jobs it creates).
labelled contains {"where": "", "labels": object.get(input.review.object, ["metadata", "labels"], {})}

labelled contains {"where": "pod template ", "labels": object.get(template, ["metadata", "labels"], {})} if {
	template := pod_template(input.review.object)
}

labelled contains {"where": "job template ", "labels": object.get(template, ["metadata", "labels"], {})} if {
	input.review.object.kind == "CronJob"
	template := input.review.object.spec.jobTemplate
}

# an image matches a pattern exactly, or as a prefix when the pattern ends with '*'
image_matches(image, patterns) if {
	some pattern in patterns
	pattern == image
}

image_matches(image, patterns) if {
	some pattern in patterns
	endswith(pattern, "*")
	startswith(image, trim_suffix(pattern, "*"))
}

# --- resource quantities, compared in one unit: CPU in millicores, memory in bytes -----------------------
#
# A quantity is a decimal number and a suffix. Its value is computed as digits * unit / 10^decimals, so
# the arithmetic stays on integers until one last division, which is exact whenever the value is a whole
# number of millicores or bytes ("0.3" CPU is 300m, not 0.3 * 1000 = 300.00000000000006 in floating
# point): a value equal to a maximum is never judged above it by a rounding error. Anything else (an
# exponent, a sign, an unknown suffix) is undefined, which templates report as unparsable; the number is
# checked by regex before to_number, whose error on garbage would otherwise depend on strict evaluation.

_quantity := `^([0-9]+\.?[0-9]*|\.[0-9]+)([A-Za-z]*)$`

# a number means cores
cpu_millicores(q) := q * 1000 if is_number(q)

cpu_millicores(q) := _decimal(digits, 1000) if [digits, ""] = _parts(q)

cpu_millicores(q) := _decimal(digits, 1) if [digits, "m"] = _parts(q)

# a number means bytes
memory_bytes(q) := q if is_number(q)

memory_bytes(q) := _decimal(digits, 1) if [digits, ""] = _parts(q)

# millibytes, as Kubernetes reads a quantity such as "128974848000m"
memory_bytes(q) := _decimal(digits, 1) / 1000 if [digits, "m"] = _parts(q)

memory_bytes(q) := _decimal(digits, _memory_units[suffix]) if [digits, suffix] = _parts(q)

_memory_units := {
	"k": 1000,
	"M": 1000000,
	"G": 1000000000,
	"T": 1000000000000,
	"P": 1000000000000000,
	"E": 1000000000000000000,
	"Ki": 1024,
	"Mi": 1048576,
	"Gi": 1073741824,
	"Ti": 1099511627776,
	"Pi": 1125899906842624,
	"Ei": 1152921504606846976,
}

_parts(q) := [match[1], match[2]] if {
	is_string(q)
	[match] := regex.find_all_string_submatch_n(_quantity, q, 1)
}

# digits * unit / 10^decimals, e.g. ("1.5", 1000) -> 15 * 1000 / 10
_decimal(digits, unit) := (to_number(concat("", pieces)) * unit) / _power_of_ten(count(pieces[1])) if {
	pieces := array.concat(split(digits, "."), [""])
}

_power_of_ten(0) := 1

_power_of_ten(n) := product([10 | some _ in numbers.range(1, n)]) if n > 0
