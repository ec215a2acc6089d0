# Objects carry the labels that make them attributable (factory, line, team) and, optionally, match a regex.
package k8srequiredlabels

import rego.v1

violation contains {"msg": msg} if {
	some required in input.parameters.labels
	not input.review.object.metadata.labels[required.key]
	msg := sprintf("%v <%v> is missing the required label <%v>", [input.review.object.kind, input.review.object.metadata.name, required.key])
}

violation contains {"msg": msg} if {
	some required in input.parameters.labels
	value := input.review.object.metadata.labels[required.key]
	expected := object.get(required, "allowedRegex", "")
	expected != ""
	not regex.match(expected, value)
	msg := sprintf("label <%v: %v> of %v <%v> does not match <%v>", [required.key, value, input.review.object.kind, input.review.object.metadata.name, expected])
}
