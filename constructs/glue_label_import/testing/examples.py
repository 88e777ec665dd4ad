"""Small examples a test of a stack or of the handler builds on: a FindMatches transform in a stack,
and a label file that Glue imports."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_glue as glue

__all__ = ["GLUE_ROLE_ARN", "LABELS", "find_matches_transform"]

LABELS = "labeling_set_id,label,customer_id\ns1,A,1\ns1,A,2\ns1,B,3\n"
"""A small label file Glue can import: one labeling set of three rows."""

GLUE_ROLE_ARN = "arn:aws:iam::123456789012:role/GlueFindMatches"


def find_matches_transform(
    stack: Stack, construct_id: str = "Transform", *, primary_key: str = "customer_id", role: str = GLUE_ROLE_ARN
) -> glue.CfnMLTransform:
    """A FIND_MATCHES CfnMLTransform over a customers table."""
    return glue.CfnMLTransform(
        stack,
        construct_id,
        role=role,
        input_record_tables=glue.CfnMLTransform.InputRecordTablesProperty(
            glue_tables=[glue.CfnMLTransform.GlueTablesProperty(database_name="crm", table_name="customers")]
        ),
        transform_parameters=glue.CfnMLTransform.TransformParametersProperty(
            transform_type="FIND_MATCHES",
            find_matches_parameters=glue.CfnMLTransform.FindMatchesParametersProperty(
                primary_key_column_name=primary_key
            ),
        ),
    )
