"""An emulation of AWS Glue FindMatches task runs on moto, for testing Glue code and stacks offline.

    pip install 'cdk-glue-label-import[testing]'

moto (5.2) models Glue ML transforms (CreateMLTransform, GetMLTransform, ...) but not their task
runs. ``install()`` adds them to moto's Glue backend, so that ``moto.mock_aws()`` and moto's
server (``moto.server.ThreadedMotoServer``, in the same process) serve them, with the request and
response shapes and error codes of botocore's Glue model:

* ``StartImportLabelsTaskRun``: checks the transform and reads ``InputS3Path`` from moto's S3,
  refusing at start what Glue refuses: a file it cannot access (``InvalidInputException``,
  "Cannot access the label file at ..."), in a bucket of another region (``InvalidInputException``),
  of size 0 (``InvalidInputException``) or over 10 MB (``ResourceNumberLimitExceededException``);
  once the run succeeds the transform holds the file's labels (``LabelCount``; replaced or added);
* ``StartMLEvaluationTaskRun``: refused with ``MLTransformNotReadyException`` while the transform
  has no labels; once the run succeeds the transform's ``EvaluationMetrics.FindMatchesMetrics``
  are the scripted metrics (``DEFAULT_METRICS`` unless scripted) with a ``ConfusionMatrix`` that
  agrees with them and the ``ColumnImportances`` of the transform's columns;
* ``StartMLLabelingSetGenerationTaskRun``: writes CSV part files of ``LABELING_SETS`` labeling
  sets (``labeling_set_id``, an empty ``label``, the input table's columns) under its
  ``OutputS3Path`` once the run succeeds, and an empty part file;
* ``StartExportLabelsTaskRun``: writes the transform's labels back out the same way; refused with
  ``EntityNotFoundException`` ("No labelset exists for transformId ...") when the transform has
  none, and with ``InvalidInputException`` for an output bucket of another region;
* an evaluation or a labeling-set generation is refused with ``ConcurrentRunsExceededException``
  when its transform has ``TRANSFORM_CONCURRENT_RUNS`` (3) runs in flight, or the account
  ``ACCOUNT_CONCURRENT_RUNS`` (30) in any region; runs of every type count (imports and exports
  are not refused so: botocore's model gives them no such error);
* with ``glue_label_import.testing.iam.enforced_iam()`` on, Glue ML actions are judged against the
  transform's ARN and refused with ``AccessDeniedException``, and the label file is read and the
  labeling set written as the transform's role (see that module);
* ``GetMLTaskRun`` / ``GetMLTaskRuns`` (``Filter``, ``Sort``, ``MaxResults``/``NextToken``
  pages) report runs with ``Properties`` as Glue does; ``CancelMLTaskRun`` moves a run in flight
  to ``STOPPING``, then ``STOPPED``;
* ``GetMLTransform`` reports ``Status`` (``NOT_READY`` until the transform has labels, then
  ``READY``), its ``EvaluationMetrics``, and its ``Schema`` (its input table's columns, when moto's
  Glue catalog has the table).

Runs have no background activity: a run's status is derived, whenever it is read, from its start
time on the clock of the module-level controller ``glue_ml`` (``STARTING`` -> ``RUNNING`` -> final
status). What a run does to its transform happens when the transform or the run is next read
after it succeeded. Through ``glue_ml`` a test sets phase durations and the clock, scripts the
next runs' outcomes and metrics (``script_next_run``), injects service errors (``fail_next``) and
reads the calls that were made (``calls``, ``calls_to``); ``reset()`` restores the defaults.

    from moto import mock_aws
    from glue_label_import.testing import glue_ml, install

    install()
    with mock_aws():
        glue_ml.reset()
        glue_ml.script_next_run(metrics={"F1": 0.71})
        ...  # your code: its Glue calls are served by moto

The package, by service area: ``runs`` (the task-run model), ``control`` (``glue_ml``: clock,
scripts, calls), ``glue`` (the operations on moto's Glue), ``rules`` (Glue's refusals and limits),
``s3_files`` (label files and labeling sets in S3), ``transforms`` (a transform as Glue reports it),
``faults`` (scripted errors, lost replies, an endpoint that never answers, trickling answers),
``services`` (CloudFormation's stack statuses, the ARNs IAM judges DynamoDB and CloudFormation
requests against), ``iam`` and ``template_values`` (IAM at work). To run the synthesized handler
over HTTP: ``sandbox`` (``LambdaSandbox``), ``endpoints`` (the local ResponseURL and Invoke API),
``lambda_runner`` (the handler's process), ``requests`` (CloudFormation's requests and the resources
they name) and ``examples`` (a transform in a stack, a label file).
"""

from __future__ import annotations

import functools

from moto.cloudformation.models import CloudFormationBackend
from moto.cloudformation.responses import CloudFormationResponse
from moto.dynamodb.responses import DynamoHandler
from moto.glue.models import FakeMLTransform, GlueBackend
from moto.glue.responses import GlueResponse

from .control import GlueMLTaskRuns, glue_ml
from .faults import ReplyFaults, replies
from .glue import MLTaskRunBackend, MLTaskRunResponse, applying_completed_runs, graft
from .rules import ACCOUNT_CONCURRENT_RUNS, LABEL_FILE_LIMIT_BYTES, MAX_TAGS, TRANSFORM_CONCURRENT_RUNS, limiting_tags
from .runs import DEFAULT_METRICS, RunScript
from .s3_files import LABELING_SETS
from .services import (
    StackStatuses,
    cloudformation_stack_arn,
    describing_set_stacks,
    dynamodb_table_arn,
    stacks,
)
from .transforms import as_glue_reports

__all__ = [
    "ACCOUNT_CONCURRENT_RUNS",
    "DEFAULT_METRICS",
    "LABELING_SETS",
    "LABEL_FILE_LIMIT_BYTES",
    "MAX_TAGS",
    "TRANSFORM_CONCURRENT_RUNS",
    "GlueMLTaskRuns",
    "ReplyFaults",
    "RunScript",
    "StackStatuses",
    "glue_ml",
    "install",
    "replies",
    "stacks",
]


@functools.cache
def install() -> None:
    """Add the task-run operations to moto's Glue backend and responses (idempotent)."""
    graft(MLTaskRunBackend, GlueBackend)
    graft(MLTaskRunResponse, GlueResponse)
    for name in ("get_ml_transform", "get_ml_transforms"):
        setattr(GlueBackend, name, applying_completed_runs(getattr(GlueBackend, name)))
    FakeMLTransform.as_dict = as_glue_reports(FakeMLTransform.as_dict)  # type: ignore[method-assign,assignment]
    GlueBackend.tag_resource = limiting_tags(GlueBackend.tag_resource)  # type: ignore[method-assign]
    CloudFormationBackend.describe_stacks = describing_set_stacks(  # type: ignore[method-assign]
        CloudFormationBackend.describe_stacks
    )
    # moto's access control judges these against "*" unless told: name the table and the stack, as IAM does.
    DynamoHandler._determine_resource = dynamodb_table_arn  # type: ignore[attr-defined]
    CloudFormationResponse._determine_resource = cloudformation_stack_arn  # type: ignore[attr-defined]
