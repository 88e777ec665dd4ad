"""The import resource (Custom::GlueImportLabels) through the handler on moto, in process, on a clock
the test controls: every answer CloudFormation gets, its properties, when an import has nothing new
to do, and the label file checked against the transform before any run.

The Glue calls go to moto's Glue (with the ML task-run extension), the answer goes through
crhelper's real response code to a recording HTTPS connection, and the hand-over goes to a
recording Lambda client.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from glue_label_import.testing import GlueMLTaskRuns
from glue_label_import.testing.requests import BUCKET, cfn_event, props
from handler_driver import ROUND_1, ROUND_2, Answering, Handler
from support import catalog_table


def test_create_imports_and_answers_success_with_the_run_id(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    answer = handler(cfn_event("Create", props(transform_id, replace=True)))

    assert answer is not None and answer["Status"] == "SUCCESS", answer
    (start,) = task_runs.calls_to("StartImportLabelsTaskRun")
    assert start == {"TransformId": transform_id, "InputS3Path": ROUND_1, "ReplaceAllLabels": True}
    assert answer["Data"] == {"TaskRunId": task_runs.calls_to("GetMLTaskRun")[0]["TaskRunId"], "LabelCount": 3}
    assert (
        handler.glue.get_ml_task_run(TransformId=transform_id, TaskRunId=answer["Data"]["TaskRunId"])["Status"]
        == "SUCCEEDED"
    )


def test_create_physical_id_is_short_and_the_same_for_the_same_resource(handler: Handler) -> None:
    transform_id = handler.transform()
    first = handler(cfn_event("Create", props(transform_id), logical_id="CustomerLabels"))
    second = handler(cfn_event("Create", props(transform_id), logical_id="CustomerLabels"))
    other = handler(cfn_event("Create", props(transform_id), logical_id="OtherLabels"))
    elsewhere = handler(cfn_event("Create", props(handler.transform("other")), logical_id="CustomerLabels"))
    assert first and second and other and elsewhere
    assert first["PhysicalResourceId"] == second["PhysicalResourceId"] != other["PhysicalResourceId"]
    assert elsewhere["PhysicalResourceId"] not in (first["PhysicalResourceId"], other["PhysicalResourceId"])
    assert first["PhysicalResourceId"].startswith("CustomerLabels-") and len(first["PhysicalResourceId"]) <= 60


def test_update_imports_the_new_file_and_keeps_the_physical_id(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    new_path = f"s3://{BUCKET}/round-2.csv"
    answer = handler(
        cfn_event(
            "Update", props(transform_id, new_path), physical_id="given-by-cfn", old_properties=props(transform_id)
        )
    )
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "given-by-cfn"
    assert [c["InputS3Path"] for c in task_runs.calls_to("StartImportLabelsTaskRun")] == [new_path]
    assert [c["ReplaceAllLabels"] for c in task_runs.calls_to("StartImportLabelsTaskRun")] == [False]


def test_failed_run_fails_with_glues_reason_run_id_and_log_group(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(final_status="FAILED", error_string="Labeling file has no column customer_id")
    answer = handler(cfn_event("Update", props(transform_id), physical_id="kept"))
    assert answer is not None
    run_id = task_runs.calls_to("GetMLTaskRun")[0]["TaskRunId"]
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        f"FAILED: Labeling file has no column customer_id (task run {run_id}, log group /aws-glue/ml-transforms)"
    )
    assert answer["PhysicalResourceId"] == "kept"


def test_long_glue_error_keeps_its_start_and_the_run_id(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    message = "Label file is invalid: " + "column mismatch; " * 40
    task_runs.script_next_run(final_status="FAILED", error_string=message)
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "FAILED"
    run_id = task_runs.calls_to("GetMLTaskRun")[0]["TaskRunId"]
    assert len(answer["Reason"]) <= 256
    assert answer["Reason"].startswith("FAILED: Label file is invalid: column mismatch;")
    assert answer["Reason"].endswith(f"... (task run {run_id}, log group /aws-glue/ml-transforms)")


def test_timeout_status_fails_the_deploy(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(final_status="TIMEOUT")
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("TIMEOUT: Glue gave no error message (task run tsk")


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"TransformId": "", "InputS3Path": ROUND_1}, "TransformId '' must be 1 to 255 characters long, got 0"),
        ({"TransformId": "t" * 256, "InputS3Path": ROUND_1}, "TransformId 'tttt"),
        ({"InputS3Path": ROUND_1}, "TransformId None must be a string"),
        ({"TransformId": "tfm-1", "InputS3Path": "labels.csv"}, "InputS3Path 'labels.csv' must start with s3://"),
        ({"TransformId": "tfm-1", "InputS3Path": "s3://bucket"}, "InputS3Path 's3://bucket' has no object key"),
        (
            {"TransformId": "tfm-1", "InputS3Path": ROUND_1, "ReplaceAllLabels": "yes"},
            "ReplaceAllLabels 'yes' must be true or false",
        ),
        (
            {"TransformId": "tfm-1", "InputS3Path": ROUND_1, "ServiceTimeout": "soon"},
            "ServiceTimeout 'soon' must be a whole number",
        ),
    ],
)
def test_bad_property_fails_before_any_glue_call(
    handler: Handler, task_runs: GlueMLTaskRuns, properties: dict[str, Any], reason: str
) -> None:
    answer = handler(cfn_event("Create", properties))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"].startswith(reason)
    assert task_runs.calls == []


@pytest.mark.parametrize("value", ["true", "True", "false", True, False])
def test_replace_all_labels_accepts_strings_and_booleans(
    handler: Handler, task_runs: GlueMLTaskRuns, value: Any
) -> None:
    transform_id = handler.transform()
    event = cfn_event("Create", props(transform_id))
    event["ResourceProperties"]["ReplaceAllLabels"] = value
    answer = handler(event)
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert task_runs.calls_to("StartImportLabelsTaskRun")[0]["ReplaceAllLabels"] is (str(value).lower() == "true")


def test_replace_all_labels_may_be_absent(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    answer = handler(cfn_event("Create", {"TransformId": transform_id, "InputS3Path": ROUND_1}))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert task_runs.calls_to("StartImportLabelsTaskRun")[0]["ReplaceAllLabels"] is False


def test_unknown_transform_fails_at_once_naming_it(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    answer = handler(cfn_event("Create", props("tfm-does-not-exist")))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("EntityNotFoundException: ")
    assert answer["Reason"].endswith("(transform tfm-does-not-exist)")
    assert task_runs.calls_to("StartImportLabelsTaskRun") == []  # the column check found no transform


def test_update_that_changes_no_import_property_does_not_import_again(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    created = handler(cfn_event("Create", props(transform_id)))
    assert created is not None
    update = cfn_event(
        "Update", props(transform_id, timeout=600), physical_id="kept", old_properties=props(transform_id, timeout=3600)
    )
    answer = handler(update)
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert answer["Data"]["TaskRunId"] == created["Data"]["TaskRunId"]
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1


def test_update_with_unchanged_properties_but_no_earlier_import_imports(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    update = cfn_event("Update", props(transform_id), physical_id="kept", old_properties=props(transform_id))
    answer = handler(update)
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert len(task_runs.calls_to("StartImportLabelsTaskRun")) == 1


@pytest.mark.parametrize("count", ["many", None, [3]])
def test_a_label_count_glue_does_not_give_as_a_number_is_left_out(handler: Handler, count: Any) -> None:
    transform_id = handler.transform()
    glue = Answering(handler.glue, "get_ml_transform", lambda response: {**response, "LabelCount": count})
    handler.use_engine(glue=glue)
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "SUCCESS", answer
    assert set(answer["Data"]) == {"TaskRunId"}


def imported(task_runs: GlueMLTaskRuns) -> list[tuple[str, bool]]:
    """(file, replace) of every import the handler started, in order."""
    return [(call["InputS3Path"], call["ReplaceAllLabels"]) for call in task_runs.calls_to("StartImportLabelsTaskRun")]


def test_an_appending_import_of_a_file_imported_since_the_last_replace_runs_nothing(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    replaced = handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True), logical_id="Base"))
    appended = handler(cfn_event("Create", props(transform_id, ROUND_2), logical_id="Next"))
    again = handler(cfn_event("Create", props(transform_id, ROUND_2), logical_id="Next"))  # Created once more
    other = handler(cfn_event("Create", props(transform_id, ROUND_1), logical_id="Other"))  # on since the replace, but
    assert replaced and appended and again and other  # imported by another resource: Other imports it itself
    assert imported(task_runs) == [(ROUND_1, True), (ROUND_2, False), (ROUND_1, False)]
    assert again["Status"] == "SUCCESS" and again["Data"]["TaskRunId"] == appended["Data"]["TaskRunId"]
    assert other["Data"]["TaskRunId"] != replaced["Data"]["TaskRunId"]
    assert again["Data"]["LabelCount"] == 6


def test_an_appending_import_after_a_replace_of_another_file_imports_again(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    handler(cfn_event("Create", props(transform_id, ROUND_1)))
    handler(cfn_event("Create", props(transform_id, ROUND_2, replace=True)))
    handler(cfn_event("Create", props(transform_id, ROUND_1)))  # its labels went with the replace
    assert imported(task_runs) == [(ROUND_1, False), (ROUND_2, True), (ROUND_1, False)]


def test_a_replacing_import_runs_unless_the_newest_import_replaced_with_this_file(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    handler(cfn_event("Create", props(transform_id, ROUND_1)))
    handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True)))  # appended before: replace anyway
    handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True)))  # the newest: nothing to do
    handler(cfn_event("Create", props(transform_id, ROUND_2)))
    handler(cfn_event("Create", props(transform_id, ROUND_1, replace=True)))  # something came since: replace again
    assert imported(task_runs) == [(ROUND_1, False), (ROUND_1, True), (ROUND_2, False), (ROUND_1, True)]


def test_the_rollback_of_an_appending_update_imports_nothing(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    created = handler(cfn_event("Create", props(transform_id, ROUND_1)))
    assert created is not None
    handler(cfn_event("Update", props(transform_id, ROUND_2), physical_id="kept", old_properties=props(transform_id)))
    rollback = handler(
        cfn_event(
            "Update", props(transform_id, ROUND_1), physical_id="kept", old_properties=props(transform_id, ROUND_2)
        )
    )
    assert rollback is not None and rollback["Status"] == "SUCCESS"
    assert rollback["Data"]["TaskRunId"] == created["Data"]["TaskRunId"]
    assert imported(task_runs) == [(ROUND_1, False), (ROUND_2, False)]


def test_a_failed_import_does_not_count_as_done(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    task_runs.script_next_run(final_status="FAILED", error_string="try again")
    handler(cfn_event("Create", props(transform_id, ROUND_1)))
    answer = handler(cfn_event("Create", props(transform_id, ROUND_1)))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert imported(task_runs) == [(ROUND_1, False), (ROUND_1, False)]


def test_a_label_file_whose_columns_differ_from_the_schema_fails_before_any_run(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    transform_id = handler.transform()
    catalog_table(handler.glue, ["customer_id", "email", "phone"])
    boto3.client("s3").put_object(
        Bucket=BUCKET, Key="typo.csv", Body=b"labeling_set_id,label,customer_id,e_mail,fax\ns1,A,1,a,b\n"
    )
    started = handler.clock()
    answer = handler(cfn_event("Create", props(transform_id, f"s3://{BUCKET}/typo.csv")))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        "label file columns do not match the transform's schema: missing email, phone; not in the transform e_mail,"
        f" fax (s3://{BUCKET}/typo.csv)"
    )
    assert task_runs.calls_to("StartImportLabelsTaskRun") == []
    assert handler.clock() - started < 1


def test_a_label_file_with_the_schemas_columns_is_imported(handler: Handler, task_runs: GlueMLTaskRuns) -> None:
    transform_id = handler.transform()
    catalog_table(handler.glue, ["Customer_ID"])  # the catalog's names are lower case; a header's may not be
    answer = handler(cfn_event("Create", props(transform_id)))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert imported(task_runs) == [(ROUND_1, False)]


@pytest.mark.parametrize("schema", [False, True], ids=["transform without a schema", "with the file's columns"])
def test_a_label_file_not_starting_with_labeling_set_id_label_fails_before_any_run(
    handler: Handler, task_runs: GlueMLTaskRuns, schema: bool
) -> None:
    transform_id = handler.transform()
    if schema:
        catalog_table(handler.glue, ["customer_id"])
    path = f"s3://{BUCKET}/reordered.csv"
    boto3.client("s3").put_object(
        Bucket=BUCKET, Key="reordered.csv", Body=b"customer_id,labeling_set_id,label\n1,s1,A\n"
    )
    answer = handler(cfn_event("Create", props(transform_id, path)))
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        "the label file's first two columns must be labeling_set_id,label (Glue's rule); its header starts with "
        f"customer_id,labeling_set_id ({path})"
    )
    assert task_runs.calls_to("StartImportLabelsTaskRun") == []


@pytest.mark.parametrize(
    "body", [None, b"x" * 70_000], ids=["unreadable label file", "no header line in the first 64 KiB"]
)
def test_a_header_that_cannot_be_read_leaves_the_decision_to_glue(
    handler: Handler, task_runs: GlueMLTaskRuns, body: bytes | None
) -> None:
    transform_id = handler.transform()
    catalog_table(handler.glue, ["customer_id", "email"])
    key = "unread.csv"
    if body is not None:
        boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
    task_runs.check_s3_objects = False
    answer = handler(cfn_event("Create", props(transform_id, f"s3://{BUCKET}/{key}")))
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert imported(task_runs) == [(f"s3://{BUCKET}/{key}", False)]
