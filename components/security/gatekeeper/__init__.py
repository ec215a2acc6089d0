"""Admission control: the Gatekeeper add-on, our ConstraintTemplates (rego/) and the constraints we apply."""
