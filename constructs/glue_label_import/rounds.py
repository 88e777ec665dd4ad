"""The order of a label round on a transform: its imports one after another, then what follows them.

On one transform, the label imports of a stack run one after another in declaration order, and the
resources that follow them (a gate, a generation) run after every one of them, side by side,
whatever the order of declaration: a gate declared before an import still follows it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

import jsii
from aws_cdk import Annotations, Aspects, CustomResource, IAspect, IListProducer, IResolveContext, Lazy, Stack
from constructs import Construct, IConstruct


@dataclass(frozen=True)
class Follows:
    """How a resource follows the imports on its transform (a gate, a generation)."""

    after: Optional[Sequence[Construct]] = None
    """What it follows (their task run ids are its ``After`` property); None: every import on its transform."""
    needs_labels: bool = False
    """Whether Glue refuses its run on a transform without labels (an evaluation's is refused)."""


@dataclass(frozen=True)
class _Task:
    owner: Construct
    """The construct of this library (a LabelImport, a TransformEvaluation, ...): its `task_run_id`."""
    resource: CustomResource
    follows: Optional[Follows] = None


@dataclass
class _Round:
    imports: list[_Task] = field(default_factory=list)
    followers: list[_Task] = field(default_factory=list)


@jsii.implements(IListProducer)
class _RunIdsFollowed:
    """The task run ids a follower follows, as they are at synth (imports declared later count)."""

    def __init__(self, rounds: Rounds, owner: Construct) -> None:
        self._rounds = rounds
        self._owner = owner

    def produce(self, context: IResolveContext) -> list[str]:
        return [getattr(followed, "task_run_id") for followed in self._rounds.followed_by(self._owner)]  # noqa: B009


@jsii.implements(IAspect)
class Rounds:
    """The rounds of a stack, one per transform; at synth (as an aspect of `holder`), the warning
    for a gate that follows no label import of the app."""

    def __init__(self, holder: Construct) -> None:
        self._holder = holder
        self._rounds: dict[str, _Round] = {}
        Aspects.of(holder).add(self)

    def after_property(self, owner: Construct) -> list[str]:
        """The ``After`` property of a follower (`owner`): the task run ids of what it follows."""
        return Lazy.uncached_list(_RunIdsFollowed(self, owner))

    def add_import(self, owner: Construct, resource: CustomResource, transform_id: str) -> None:
        """An import runs after the imports declared before it; what follows the imports follows it too."""
        round_ = self._round(owner, transform_id)
        if round_.imports:
            resource.node.add_dependency(round_.imports[-1].resource)
        for follower in round_.followers:
            follower.resource.node.add_dependency(resource)
        round_.imports.append(_Task(owner, resource))

    def add_follower(self, owner: Construct, resource: CustomResource, transform_id: str, follows: Follows) -> None:
        """A resource that runs after every import on its transform, whenever declared, and after `follows.after`."""
        round_ = self._round(owner, transform_id)
        for task in round_.imports:
            resource.node.add_dependency(task.resource)
        if follows.after:
            resource.node.add_dependency(*follows.after)
        round_.followers.append(_Task(owner, resource, follows))

    def imports_on(self, scope: Construct, transform_id: str) -> list[Construct]:
        """The imports of the stack on this transform so far, in declaration order."""
        return [task.owner for task in self._round(scope, transform_id).imports]

    def followed_by(self, owner: Construct) -> list[Construct]:
        """What a follower follows: its `after`, or every import on its transform so far."""
        for round_ in self._rounds.values():
            for follower in round_.followers:
                if follower.owner is owner:
                    after = follower.follows.after if follower.follows else None
                    return list(after) if after is not None else [task.owner for task in round_.imports]
        raise KeyError(f"{owner.node.path} follows nothing of this stack")

    def visit(self, node: IConstruct) -> None:
        """At synth: warn about each follower that needs labels on a transform that no LabelImport
        of the app imports into (Glue evaluates only a transform with labels). A given ``after``
        says where the labels come from: no warning then."""
        if node is not self._holder:
            return
        app_rounds = [getattr(construct, "_rounds", None) for construct in self._holder.node.root.node.find_all()]
        for key, round_ in self._rounds.items():
            if any(isinstance(rounds, Rounds) and rounds._rounds.get(key, _Round()).imports for rounds in app_rounds):
                continue
            for follower in round_.followers:
                if follower.follows and follower.follows.after is None and follower.follows.needs_labels:
                    Annotations.of(follower.owner).add_warning_v2(
                        "glue-label-import:no-label-import",
                        "no LabelImport of the app imports labels into its transform, and Glue evaluates "
                        "only a transform with labels (it refuses one that is NOT_READY): declare the "
                        "LabelImport, or pass after=[] when the labels come from outside the app",
                    )

    def _round(self, scope: Construct, transform_id: str) -> _Round:
        key = json.dumps(Stack.of(scope).resolve(transform_id))
        return self._rounds.setdefault(key, _Round())
