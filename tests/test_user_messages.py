"""What a newcomer's mistakes get: messages that name the user's constructs and arguments, never internals."""

from __future__ import annotations

import re

import pytest
from aws_cdk import aws_s3 as s3

from glue_label_import import LabelImport, LabelSource, TransformEvaluation
from glue_label_import.testing.examples import find_matches_transform
from support import new_stack


def test_after_on_another_transform_names_both_transforms_by_construct_path(labels: LabelSource) -> None:
    stack = new_stack()
    first, second = find_matches_transform(stack, "First"), find_matches_transform(stack, "Second")
    imported = LabelImport(stack, "Labels", transform=first, source=labels)
    with pytest.raises(ValueError) as error:
        TransformEvaluation(stack, "Quality", transform=second, after=[imported])
    assert str(error.value) == "after: Labels/Labels is on transform Labels/First, not on Labels/Second"


@pytest.mark.parametrize("path", [123, None, ["labels.csv"]])
def test_from_asset_of_a_non_path_is_a_type_error_naming_the_argument(path: object) -> None:
    with pytest.raises(TypeError, match=r"^label file path must be a path \(str or os.PathLike\), got "):
        LabelSource.from_asset(path)  # type: ignore[arg-type]


def test_from_s3_path_of_a_non_string_is_a_type_error_naming_the_argument() -> None:
    with pytest.raises(TypeError, match=r"^label S3 path must be a string such as 's3://bucket/key.csv', got int 7$"):
        LabelSource.from_s3_path(7)  # type: ignore[arg-type]


def test_a_long_transform_id_is_cut_in_the_message(labels: LabelSource) -> None:
    with pytest.raises(ValueError) as error:
        LabelImport(new_stack(), "Labels", transform="t" * 300, source=labels)
    message = str(error.value)
    assert re.fullmatch(r"transform id 't{76}\.\.\. must be 1 to 255 characters long, got 300", message), message


def test_a_long_s3_path_is_cut_in_the_message() -> None:
    with pytest.raises(ValueError) as error:
        LabelSource.from_s3_path("s3://" + "b" * 300)
    message = str(error.value)
    assert message.startswith("label S3 path 's3://bbb") and message.endswith("is not a valid S3 bucket name")
    assert "b" * 150 not in message and len(message) < 300, message  # the path and the bucket name both cut


def test_label_file_error_is_importable_from_the_package() -> None:
    from glue_label_import import LabelFileError
    from glue_label_import.label_file import LabelFileError as Defined

    assert LabelFileError is Defined
    assert issubclass(LabelFileError, ValueError)


def test_a_construct_of_the_wrong_kind_is_named_by_its_construct_path(labels: LabelSource) -> None:
    stack = new_stack()
    bucket = s3.Bucket(stack, "Bucket")
    with pytest.raises(TypeError) as error:
        LabelImport(stack, "Labels", transform=bucket, source=labels)  # type: ignore[arg-type]
    assert str(error.value) == "transform must be a CfnMLTransform or a TransformId string, got Bucket Labels/Bucket"
