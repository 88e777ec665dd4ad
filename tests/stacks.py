"""Small stacks that the synth tests, the packaging test and the end-to-end suite share."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam

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


def new_stack(outdir: str | None = None) -> Stack:
    """An empty stack in a fresh app."""
    return Stack(App(outdir=outdir), "Labels")


def glue_role(stack: Stack) -> iam.IRole:
    """An imported Glue service role."""
    return iam.Role.from_role_arn(stack, "GlueRole", GLUE_ROLE_ARN)


def handler_asset_path(outdir: Path, stack_name: str) -> Path:
    """The folder of the handler's Lambda asset in a synthesized cloud assembly."""
    template = json.loads((outdir / f"{stack_name}.template.json").read_text())
    (function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    s3_key = function["Properties"]["Code"]["S3Key"]
    manifest = json.loads((outdir / f"{stack_name}.assets.json").read_text())
    (source,) = [
        asset["source"]["path"]
        for asset in manifest["files"].values()
        if any(d["objectKey"] == s3_key for d in asset["destinations"].values())
    ]
    return outdir / source
