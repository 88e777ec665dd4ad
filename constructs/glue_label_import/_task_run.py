"""What every resource of the library is: one Glue ML task run on a FindMatches transform, served by
the stack's `TaskRunProvider` (a private base of LabelImport, TransformEvaluation and LabelingSetGeneration)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Optional, Union

from aws_cdk import CustomResource, Duration
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from constructs import Construct

from glue_label_import import arguments
from glue_label_import.provider import TaskRunProvider
from glue_label_import.rounds import Follows


def _nothing_more() -> None:
    """No arguments of its own to check."""


class _TaskRunResource(Construct):
    """A custom resource that runs one Glue ML task run on its transform on each Create or Update.

    It owns what the three resources share: the transform (a ``CfnMLTransform`` of FIND_MATCHES, or
    a TransformId), the ``timeout`` (the resource's ServiceTimeout), the transform's role, its place
    in the order of the resources on its transform, the handler's grant to start its run there, and
    the custom resource itself. A subclass names its resource type and start action, checks its own
    arguments (``check_own``, after the transform, before the construct joins the tree: a refused
    call leaves nothing behind in `scope`), then calls `_start` with its properties.
    """

    _RESOURCE_TYPE: ClassVar[str]
    """The CloudFormation type of its custom resource, such as ``Custom::GlueImportLabels``."""
    _START_ACTION: ClassVar[str]
    """The Glue action that starts its task run, such as ``glue:StartImportLabelsTaskRun``."""
    _FOLLOWS: ClassVar[bool] = False
    """Whether it follows the imports on its transform (and has `after`); an import does not."""
    _NEEDS_LABELS: ClassVar[bool] = False
    """Whether Glue refuses its run on a transform without labels (an evaluation's is refused)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        transform: Union[glue.CfnMLTransform, str],
        timeout: Optional[Duration],
        check_own: Callable[[], object] = _nothing_more,
        transform_role: Optional[iam.IRole] = None,
        after: Optional[Sequence[Construct]] = None,
    ) -> None:
        transform_id = arguments.transform_id(transform)
        check_own()
        service_timeout = arguments.check_timeout(timeout)
        given_role = arguments.check_role(transform_role, "transform_role")
        following = arguments.check_after(after, transform_id, scope) if self._FOLLOWS else None
        super().__init__(scope, construct_id)
        self._transform = transform
        self._transform_id = transform_id
        self._service_timeout = service_timeout
        self._given_role = given_role
        self._following = following
        self._provider = TaskRunProvider.of(self)

    def _start(self, properties: dict[str, Any]) -> None:
        """Create the custom resource with these properties (after ``TransformId``), in its place
        on the transform, and let the handler start and watch its run there."""
        provider = self._provider
        if self._FOLLOWS:
            properties = {**properties, "After": provider._rounds.after_property(self)}
        provider._serve(self._transform_id, self._START_ACTION, self._service_timeout)
        self._resource = CustomResource(
            self,
            "Resource",
            resource_type=self._RESOURCE_TYPE,
            service_token=provider.service_token,
            service_timeout=self._service_timeout,
            properties={"TransformId": self._transform_id, **properties},
        )
        self._resource.node.add_dependency(provider._hand_over_policy)
        if self._FOLLOWS:
            follows = Follows(after=self._following, needs_labels=self._NEEDS_LABELS)
            provider._rounds.add_follower(self, self._resource, self._transform_id, follows)
        else:
            provider._rounds.add_import(self, self._resource, self._transform_id)

    def _transform_role(self, purpose: str) -> Optional[iam.IRole]:
        """The role Glue runs the transform as: ``transform_role`` as given, else the role of a
        ``CfnMLTransform`` when the stack can tell it; None (and a warning asking for
        ``transform_role=`` `purpose`) when it cannot."""
        return self._given_role or self._provider._transform_roles.of(self, self._transform, purpose)

    def _grant_before_run(self, grants: Sequence[iam.Grant]) -> None:
        """The run starts only once these grants (to the transform's role) are in place."""
        for grant in grants:
            grant.apply_before(self._resource)

    @property
    def transform_id(self) -> str:
        """The TransformId of its transform (the transform's Ref for a CfnMLTransform)."""
        return self._transform_id

    @property
    def task_run_id(self) -> str:
        """The Glue TaskRunId of its last task run (a token: GetAtt TaskRunId)."""
        return self._resource.get_att_string("TaskRunId")


class _FollowingTaskRun(_TaskRunResource):
    """A task run that follows the imports on its transform (a gate, a generation): it runs after
    every import on its transform in the stack, whenever declared, and after `after`; the task run
    ids it follows are its ``After`` property, so that it runs again exactly when one of them ran."""

    _FOLLOWS = True

    @property
    def after(self) -> list[Construct]:
        """The resources it follows: ``after`` as given, or every LabelImport on its transform in the stack."""
        return self._provider._rounds.followed_by(self)
