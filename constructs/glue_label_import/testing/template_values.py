"""A template's values resolved as its IAM policies use them: CloudFormation's Ref, Fn::GetAtt,
Fn::Join and Fn::Sub (``TemplateRoles.resolve`` in ``glue_label_import.testing.iam``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TemplateValues:
    """CloudFormation's intrinsic functions as a template's IAM uses them: Ref, GetAtt, Join, Sub.

    A Ref of a name that ``refs`` does not hold gives the name itself, an Fn::GetAtt of an attribute
    that ``attributes`` does not hold an ARN of the logical id; with ``strict``, both raise KeyError
    instead (for a caller that must resolve every value, as CloudFormation does). An attribute is
    given as it is (a custom resource's Data may hold numbers); Fn::Sub puts it in as text.
    """

    def __init__(
        self,
        refs: Mapping[str, str],
        attributes: Mapping[tuple[str, str], Any],
        account_id: str,
        region: str,
        *,
        strict: bool = False,
    ) -> None:
        self.refs = dict(refs)
        self.attributes = dict(attributes)
        self.account_id = account_id
        self.region = region
        self.strict = strict

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt", "Fn::Join", "Fn::Sub"):
            ((function, argument),) = value.items()
            return self.function(function, argument)
        return {key: self(item) for key, item in value.items()}

    def function(self, function: str, argument: Any) -> Any:
        if function == "Ref":
            return str(self.refs[argument] if self.strict else self.refs.get(argument, argument))
        if function == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self.attribute(logical_id, attribute)
        if function == "Fn::Join":
            return str(argument[0]).join(str(self(part)) for part in argument[1])
        return self.substitute(argument)

    def attribute(self, logical_id: str, attribute: str) -> Any:
        if self.strict:
            return self.attributes[(logical_id, attribute)]
        known = self.attributes.get((logical_id, attribute))
        if known is not None:
            return known
        return f"arn:aws:cloudformation:{self.region}:{self.account_id}:resource/{logical_id}"

    def substitute(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self(argument[1]))
        for name, value in {**self.refs, **variables}.items():
            text = text.replace("${" + name + "}", str(value))
        for (logical_id, attribute), value in self.attributes.items():
            text = text.replace("${" + f"{logical_id}.{attribute}" + "}", str(value))
        return str(text)
