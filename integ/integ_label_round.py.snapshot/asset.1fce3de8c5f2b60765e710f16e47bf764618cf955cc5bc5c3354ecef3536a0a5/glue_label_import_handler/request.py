"""Reading what CloudFormation sends: custom-resource properties, parsed and checked.

CloudFormation hands every property over as a string, so a boolean arrives as "true" or "false"
and `ServiceTimeout` as "3600". Every resource type reads its properties with these functions
before any AWS call, and a bad value is reported with the property's name and the value itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from .rules import shown, transform_id_problem

DEFAULT_SERVICE_TIMEOUT_S = 3600
_BOOLEANS = {"true": True, "false": False}


class InvalidProperty(ValueError):
    """A property of the custom resource that Glue would refuse or that makes no sense."""


def physical_id(transform_id: str, logical_id: str) -> str:
    """A short physical id that is the same for every Create of this resource on this transform."""
    digest = hashlib.sha256(f"{transform_id}/{logical_id}".encode()).hexdigest()[:16]
    return f"{logical_id[:40]}-{digest}"


def checked_string(properties: Mapping[str, Any], name: str, problem_of: Callable[[str], str | None]) -> str:
    """The string property `name`, or InvalidProperty saying what `problem_of` finds wrong with it."""
    value = properties.get(name)
    problem = problem_of(value) if isinstance(value, str) else "must be a string"
    if problem or not isinstance(value, str):
        raise InvalidProperty(f"{name} {shown(value)} {problem}")
    return value


def parse_boolean(name: str, value: Any) -> bool:
    """A boolean property: a bool, or "true"/"false" in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _BOOLEANS:
        return _BOOLEANS[value.lower()]
    raise InvalidProperty(f"{name} {shown(value)} must be true or false")


def parse_seconds(name: str, value: Any) -> int:
    """A whole number of seconds, at least 1."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise InvalidProperty(f"{name} {shown(value)} must be a whole number of seconds") from None
    if seconds < 1:
        raise InvalidProperty(f"{name} {shown(value)} must be at least 1 second")
    return seconds


def transform_id(properties: Mapping[str, Any]) -> str:
    """The TransformId property, checked."""
    return checked_string(properties, "TransformId", transform_id_problem)


def service_timeout_s(properties: Mapping[str, Any]) -> int:
    """The ServiceTimeout property in seconds (CloudFormation's default of an hour when absent)."""
    return parse_seconds("ServiceTimeout", properties.get("ServiceTimeout", DEFAULT_SERVICE_TIMEOUT_S))


def optional_fraction(properties: Mapping[str, Any], name: str) -> float | None:
    """An optional number from 0 to 1 (a threshold), absent or empty meaning none."""
    value = properties.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidProperty(f"{name} {shown(value)} must be a number from 0 to 1") from None
    if not 0 <= number <= 1:
        raise InvalidProperty(f"{name} {shown(value)} must be a number from 0 to 1")
    return number


def string_list(properties: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """A list of strings (CloudFormation sends a list as one), absent meaning none."""
    value = properties.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidProperty(f"{name} {shown(value)} must be a list of strings")
    return tuple(value)
