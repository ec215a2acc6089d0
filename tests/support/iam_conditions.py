"""A small evaluator of IAM policy conditions, for the operators the program writes, with the semantics the IAM
User Guide documents (reference_policies_elements_condition_operators.html, "...IfExists condition operators"):

- the operators of one Condition block are ANDed, and so are the keys of one operator; the values of one key are
  ORed (a positive operator matches when the request's value equals one of them, a negated operator when it
  equals none);
- a key absent from the request context: a positive operator is false, a negated operator (`StringNotEquals`,
  `NotIpAddress`) is true, and `...IfExists` makes any operator true;
- `Bool` compares the strings "true"/"false"; `IpAddress` matches CIDR blocks.

An operator it does not know raises, so a policy can never pass a test by using one it cannot judge. It answers
whether an explicit Deny applies; everything else about IAM (allows, boundaries, SCPs) is out of its reach.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Context = Mapping[str, str]


def _string_equals(value: str, wanted: Sequence[str]) -> bool:
    return value in wanted


def _bool(value: str, wanted: Sequence[str]) -> bool:
    return value.lower() in [str(w).lower() for w in wanted]


def _ip_address(value: str, wanted: Sequence[str]) -> bool:
    address = ipaddress.ip_address(value)
    return any(address in ipaddress.ip_network(block, strict=False) for block in wanted)


# operator (without IfExists) -> (comparison, negated)
_OPERATORS: dict[str, tuple[Callable[[str, Sequence[str]], bool], bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "Bool": (_bool, False),
    "IpAddress": (_ip_address, False),
    "NotIpAddress": (_ip_address, True),
}


def _operator(name: str) -> tuple[Callable[[str, Sequence[str]], bool], bool, bool]:
    base, if_exists = (name[: -len("IfExists")], True) if name.endswith("IfExists") else (name, False)
    if base not in _OPERATORS:
        raise ValueError(f"condition operator {name!r} is not modelled here")
    compare, negated = _OPERATORS[base]
    return compare, negated, if_exists


def _values(wanted: Any) -> list[str]:
    return [str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]


def key_matches(operator: str, key: str, wanted: Any, context: Context) -> bool:
    compare, negated, if_exists = _operator(operator)
    if key not in context:
        return if_exists or negated
    hit = compare(context[key], _values(wanted))
    return not hit if negated else hit


def condition_matches(condition: Mapping[str, Mapping[str, Any]], context: Context) -> bool:
    return all(
        key_matches(operator, key, wanted, context)
        for operator, keys in condition.items()
        for key, wanted in keys.items()
    )


def denies(policy: Mapping[str, Any], context: Context) -> bool:
    """Whether an explicit Deny of the policy applies to a request (of any action, on any resource) with this
    context. Statements must deny every action on every resource: this evaluator judges conditions only."""
    for statement in policy["Statement"]:
        if statement["Effect"] != "Deny":
            continue
        if statement.get("Action") != "*" or statement.get("Resource") != "*":
            raise ValueError(f"statement {statement.get('Sid')} is not an all-actions deny; not modelled here")
        if condition_matches(statement.get("Condition", {}), context):
            return True
    return False
