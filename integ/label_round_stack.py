"""The stack the integration tests deploy: a FindMatches transform of its own and one label round on it.

Everything the round needs is created here, so that the test needs nothing but an account: a
bucket with the synthetic customers of integ/data (copied from an S3 asset, so that the data
bucket holds a plain CSV for the Glue table), the Glue database and table over it, the
transform's role and the transform itself. On it, the library's three constructs: the labels
of integ/data/labels that ``label_files`` selects are imported (replacing the transform's
labels), the transform is evaluated against a quality gate, and the next labeling set is
generated into the bucket.
"""

from __future__ import annotations

import csv
from pathlib import Path

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import custom_resources as cr
from constructs import Construct

from glue_label_import import LabelImport, LabelingSetGeneration, LabelSource, TransformEvaluation

DATA = Path(__file__).resolve().parent / "data"
LABELS = DATA / "labels"
DATA_PREFIX = "customers/"
DATA_KEY = f"{DATA_PREFIX}customers.csv"
LABELING_SET_PREFIX = "labeling-sets/"
STACK_NAME = "GlueLabelImportInteg"
"""The CloudFormation stack of both steps: the second updates what the first created."""
CONTEXT = {"@aws-cdk/core:defaultCrossStackReferences": "strong"}
"""The apps' context: the assertion stack reads the round's stack by exports (no synth warning)."""
DATABASE = "glue_label_import_integ"
MIN_F1 = 0.2
COLUMNS = (
    "customer_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "state",
    "postal_code",
    "birth_date",
)


def label_rows(label_files: str) -> int:
    """How many labels the files of integ/data/labels matching ``label_files`` hold (rows after the header)."""
    total = 0
    for path in sorted(LABELS.glob(label_files)):
        with path.open(newline="", encoding="utf-8") as file:
            total += sum(1 for _ in csv.reader(file)) - 1
    return total


class LabelRoundStack(Stack):
    """A FindMatches transform over synthetic customers, and a label round on it: import, gate, next set."""

    def __init__(self, scope: Construct, construct_id: str, *, stack_name: str, label_files: str) -> None:
        """
        :param stack_name: the CloudFormation stack's name (two steps of one test share it).
        :param label_files: a ``glob`` pattern of the label files of integ/data/labels to import.
        """
        super().__init__(scope, construct_id, stack_name=stack_name)
        self.bucket = s3.Bucket(
            self,
            "Data",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )
        customers = s3_assets.Asset(self, "CustomersFile", path=str(DATA / "customers.csv"))
        copy = cr.AwsSdkCall(
            service="S3",
            action="copyObject",
            parameters={
                "Bucket": self.bucket.bucket_name,
                "Key": DATA_KEY,
                "CopySource": f"{customers.s3_bucket_name}/{customers.s3_object_key}",
            },
            physical_resource_id=cr.PhysicalResourceId.of(DATA_KEY),
        )
        upload = cr.AwsCustomResource(
            self,
            "UploadCustomers",
            on_create=copy,
            on_update=copy,
            install_latest_aws_sdk=False,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=["s3:GetObject"],
                        resources=[customers.bucket.arn_for_objects(customers.s3_object_key)],
                    ),
                    iam.PolicyStatement(actions=["s3:PutObject"], resources=[self.bucket.arn_for_objects(DATA_KEY)]),
                ]
            ),
        )

        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=self.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(name=DATABASE),
        )
        table = glue.CfnTable(
            self,
            "CustomersTable",
            catalog_id=self.account,
            database_name=DATABASE,
            table_input=glue.CfnTable.TableInputProperty(
                name="customers",
                table_type="EXTERNAL_TABLE",
                parameters={"classification": "csv", "skip.header.line.count": "1"},
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=self.bucket.s3_url_for_object(DATA_PREFIX),
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.apache.hadoop.hive.serde2.OpenCSVSerde",
                        parameters={"separatorChar": ",", "quoteChar": '"'},
                    ),
                    columns=[glue.CfnTable.ColumnProperty(name=name, type="string") for name in COLUMNS],
                ),
            ),
        )
        table.node.add_dependency(database)

        role = iam.Role(
            self,
            "GlueRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSGlueServiceRole")],
        )
        self.bucket.grant_read(role, f"{DATA_PREFIX}*")

        transform = glue.CfnMLTransform(
            self,
            "FindDuplicateCustomers",
            name=f"{stack_name}-customers",
            role=role.role_arn,
            glue_version="2.0",
            worker_type="G.1X",
            number_of_workers=2,
            max_retries=0,
            timeout=60,
            input_record_tables=glue.CfnMLTransform.InputRecordTablesProperty(
                glue_tables=[glue.CfnMLTransform.GlueTablesProperty(database_name=DATABASE, table_name="customers")]
            ),
            transform_parameters=glue.CfnMLTransform.TransformParametersProperty(
                transform_type="FIND_MATCHES",
                find_matches_parameters=glue.CfnMLTransform.FindMatchesParametersProperty(
                    primary_key_column_name="customer_id",
                    precision_recall_tradeoff=0.9,
                    accuracy_cost_tradeoff=0.5,
                    enforce_provided_labels=True,
                ),
            ),
        )
        transform.node.add_dependency(table, role, upload)

        self.label_count = label_rows(label_files)
        self.labels = LabelImport(
            self,
            "Labels",
            transform=transform,
            source=LabelSource.from_directory(LABELS, pattern=label_files),
            replace_all_labels=True,
        )
        # A low bar: the test proves the gate runs and passes on AWS, not the quality of 60 labels.
        self.quality = TransformEvaluation(self, "Quality", transform=transform, min_f1=MIN_F1)
        self.next_round = LabelingSetGeneration(
            self, "NextRound", transform=transform, output_bucket=self.bucket, output_prefix=LABELING_SET_PREFIX
        )
