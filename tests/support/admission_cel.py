"""A ValidatingAdmissionPolicy evaluated in a real CEL runtime (cel-expr-python, the CEL C++ implementation) the
way the API server evaluates it: match conditions first, then the variables in order, then every validation. A
validation that is false refuses the request; one that errors refuses too (failurePolicy Fail), so the tests
require every validation to yield a boolean. The runtime is CEL with the strings extension, as the API server's;
`object` and `request` are untyped, as at evaluation time."""

from __future__ import annotations

from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_strings

ENV = cel.NewEnv(
    variables={
        "object": cel.Type.DYN,
        "oldObject": cel.Type.DYN,
        "request": cel.Type.DYN,
        "variables": cel.Type.DYN,
    },
    extensions=[ext_strings.ExtStrings()],
)


def evaluate_policy(policy: dict[str, Any], obj: dict[str, Any], username: str = "") -> list[str] | None:
    """None when the policy's match conditions leave the request alone; else the messages of every failed
    validation for `obj` sent by `username` (empty: admitted)."""
    spec, request = policy["spec"], {"userInfo": {"username": username}}
    for condition in spec.get("matchConditions", []):
        if not ENV.compile(condition["expression"]).eval(data={"request": request}).value():
            return None
    variables: dict[str, Any] = {}
    for variable in spec.get("variables", []):
        data = {"object": obj, "request": request, "variables": variables}
        variables[variable["name"]] = ENV.compile(variable["expression"]).eval(data=data).plain_value()
    refused = []
    for validation in spec["validations"]:
        data = {"object": obj, "request": request, "variables": variables}
        result = ENV.compile(validation["expression"]).eval(data=data).value()
        assert isinstance(result, bool), (validation["expression"], result)  # an error would refuse (Fail)
        if not result:
            message = validation.get("messageExpression")
            refused.append(str(ENV.compile(message).eval(data=data).value()) if message else validation["message"])
    return refused
