"""A small evaluator of Falco rule conditions over Kubernetes audit events, for the subset our k8s_audit rules
use — so each rule's intent can be tested against event fixtures where Falco itself cannot run (no Falco binary
installs here; these tests are not Falco's judgement, and say so).

Supported: `and`, `or`, `not`, parentheses, macros by name; the operators `=`, `!=`, `in (...)`, `startswith`,
`endswith`, `contains`, `exists`; the fields below and `json.value[<JSON pointer>]` (the json plugin: the JSON
text of the value, compact). A field the event lacks has no value: every comparison on it is false, `exists`
false. Anything else raises, so a rule cannot pass by using syntax this evaluator does not know.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

Event = Mapping[str, Any]

# k8saudit plugin fields (pkg/k8saudit/fields.go) -> where the audit event (audit.k8s.io/v1 Event) keeps them
FIELDS: dict[str, Callable[[Event], Any]] = {
    "ka.verb": lambda e: e.get("verb"),
    "ka.user.name": lambda e: (e.get("user") or {}).get("username"),
    "ka.user.groups": lambda e: (e.get("user") or {}).get("groups"),
    "ka.useragent": lambda e: e.get("userAgent"),
    "ka.target.resource": lambda e: (e.get("objectRef") or {}).get("resource"),
    "ka.target.namespace": lambda e: (e.get("objectRef") or {}).get("namespace"),
    "ka.target.name": lambda e: (e.get("objectRef") or {}).get("name"),
    "ka.response.code": lambda e: None if e.get("responseStatus") is None else str(e["responseStatus"].get("code")),
}
TOKEN = re.compile(
    r"\s*(?:(?P<str>'[^']*'|\"[^\"]*\")|(?P<field>json\.value\[[^\]]+\])|(?P<punct>[(),]|!=|=)|(?P<word>[^\s(),=!]+))"
)
OPERATORS = {"=", "!=", "in", "startswith", "endswith", "contains", "exists"}


def tokens(condition: str) -> list[str]:
    found, position = [], 0
    text = condition.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read the condition at: {text[position : position + 30]!r}")
        found.append(match.group(match.lastgroup or "word"))
        position = match.end()
    return found


def _pointer(event: Event, pointer: str) -> Any:
    node: Any = event
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return None
    return node


def field_value(name: str, event: Event) -> Any:
    if name.startswith("json.value["):
        value = _pointer(event, name[len("json.value[") : -1])
        return None if value is None else value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if name not in FIELDS:
        raise ValueError(f"field {name!r} is not modelled here")
    return FIELDS[name](event)


def _literal(token: str) -> str:
    return token[1:-1] if token[:1] in "'\"" else token


class _Parser:
    def __init__(self, condition: str, macros: Mapping[str, str], event: Event) -> None:
        self.items, self.at, self.macros, self.event = tokens(condition), 0, macros, event

    def peek(self) -> str | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"expected {expected!r}, found {token!r}")
        self.at += 1
        return token

    def expression(self) -> bool:
        value = self.conjunction()
        while self.peek() == "or":
            self.take()
            value = self.conjunction() or value
        return value

    def conjunction(self) -> bool:
        value = self.unary()
        while self.peek() == "and":
            self.take()
            value = self.unary() and value
        return value

    def unary(self) -> bool:
        if self.peek() == "not":
            self.take()
            return not self.unary()
        if self.peek() == "(":
            self.take()
            value = self.expression()
            self.take(")")
            return value
        name = self.take()
        if name in self.macros:
            return evaluate(self.macros[name], self.event, self.macros)
        return self.comparison(field_value(name, self.event))

    def comparison(self, value: Any) -> bool:
        operator = self.take()
        if operator not in OPERATORS:
            raise ValueError(f"operator {operator!r} is not modelled here")
        if operator == "exists":
            return value is not None
        if operator == "in":
            self.take("(")
            options = [_literal(self.take())]
            while self.peek() == ",":
                self.take()
                options.append(_literal(self.take()))
            self.take(")")
            return value is not None and value in options
        wanted = _literal(self.take())
        if value is None:
            return False
        if isinstance(value, list):
            value = " ".join(map(str, value))
        return {
            "=": lambda: value == wanted,
            "!=": lambda: value != wanted,
            "startswith": lambda: value.startswith(wanted),
            "endswith": lambda: value.endswith(wanted),
            "contains": lambda: wanted in value,
        }[operator]()


def evaluate(condition: str, event: Event, macros: Mapping[str, str]) -> bool:
    parser = _Parser(condition, macros, event)
    value = parser.expression()
    if parser.peek() is not None:
        raise ValueError(f"unread tokens from {parser.peek()!r}")
    return value


def fields_used(condition: str) -> set[str]:
    """The fields a condition reads (macro names and literals excluded by the caller's knowledge of them)."""
    return {t for t in tokens(condition) if t.startswith(("ka.", "json.value["))}
