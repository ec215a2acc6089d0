# Objects carry the labels that make them attributable (factory, line, team) and, optionally, match a regex.
# A CronJob carries them on its job template too: the Jobs it creates take that template's labels, and a Job
# without them would be refused when the schedule fires, long after the CronJob was admitted.
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

violation contains {"msg": msg} if {
	input.review.object.kind == "CronJob"
	some required in input.parameters.labels
	not object.get(input.review.object.spec.jobTemplate, ["metadata", "labels", required.key], false)
	msg := sprintf("CronJob <%v>: its job template is missing the required label <%v> (the Jobs it creates would be refused)", [input.review.object.metadata.name, required.key])
}

violation contains {"msg": msg} if {
	input.review.object.kind == "CronJob"
	some required in input.parameters.labels
	value := input.review.object.spec.jobTemplate.metadata.labels[required.key]
	expected := object.get(required, "allowedRegex", "")
	expected != ""
	not regex.match(expected, value)
	msg := sprintf("label <%v: %v> of CronJob <%v>'s job template does not match <%v>", [required.key, value, input.review.object.metadata.name, expected])
}
