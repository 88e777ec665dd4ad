#!/usr/bin/env python3
"""Example app: a Glue FindMatches transform over a customer table, and its labels imported on deploy.

The stack uploads data/customers.csv (synthetic customers with near-duplicates, made by
scripts/generate_example_data.py) to its own bucket, describes it as a Glue table, creates a
FIND_MATCHES transform over it, and imports the labels of labels/ (one file per labeling round,
merged into one) into the transform, replacing its labels: after each deploy the transform holds
exactly the labels of that folder. Then it evaluates the transform and fails the deploy when its
quality drops (TransformEvaluation), and asks Glue for the next labeling set to label
(LabelingSetGeneration), written to the bucket under labeling-sets/. Each evaluation's metrics
are CloudWatch metrics: an alarm warns when F1 comes close to the gate, and a dashboard charts the
four of them over the rounds.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from glue_label_import import LabelImport, LabelingSetGeneration, LabelSource, TransformEvaluation

HERE = Path(__file__).parent
MIN_F1 = 0.7  # the gate: a deploy whose evaluation estimates a lower F1 fails
F1_WARNING = 0.75  # the alarm: a round whose F1 comes this close to the gate
DATA_PREFIX = "customers/"
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


class CustomerMatchingStack(Stack):
    """Customer records, a FindMatches transform that finds duplicates in them, and its labels."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        bucket = s3.Bucket(
            self,
            "Data",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )
        upload = s3_deployment.BucketDeployment(
            self,
            "UploadCustomers",
            sources=[s3_deployment.Source.asset(str(HERE / "data"))],
            destination_bucket=bucket,
            destination_key_prefix=DATA_PREFIX,
        )

        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=self.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name="customer_matching", description="Customer records to deduplicate"
            ),
        )
        table = glue.CfnTable(
            self,
            "CustomersTable",
            catalog_id=self.account,
            database_name="customer_matching",
            table_input=glue.CfnTable.TableInputProperty(
                name="customers",
                table_type="EXTERNAL_TABLE",
                parameters={"classification": "csv", "skip.header.line.count": "1"},
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=bucket.s3_url_for_object(DATA_PREFIX),
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

        glue_role = iam.Role(
            self,
            "GlueRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSGlueServiceRole")],
        )
        bucket.grant_read(glue_role, f"{DATA_PREFIX}*")

        transform = glue.CfnMLTransform(
            self,
            "FindDuplicateCustomers",
            name=f"{self.stack_name}-customers",
            description="Finds customer records that describe the same person",
            role=glue_role.role_arn,
            glue_version="2.0",
            worker_type="G.1X",
            number_of_workers=2,
            max_retries=0,
            timeout=60,
            input_record_tables=glue.CfnMLTransform.InputRecordTablesProperty(
                glue_tables=[
                    glue.CfnMLTransform.GlueTablesProperty(database_name="customer_matching", table_name="customers")
                ]
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
        transform.node.add_dependency(table, glue_role, upload)

        labels = LabelImport(
            self,
            "CustomerLabels",
            transform=transform,
            source=LabelSource.from_directory(str(HERE / "labels")),
            replace_all_labels=True,
        )

        # The quality gate: a label round that lowers F1 below 0.7, or by more than 0.05, fails
        # the deploy, and CloudFormation's rollback imports the previous labels again.
        quality = TransformEvaluation(self, "Quality", transform=transform, min_f1=MIN_F1, max_f1_drop=0.05)
        # The next round: once the labels are in, Glue writes a new labeling set to label while the
        # gate evaluates (after=[quality] would wait for the gate instead);
        # `glue-label-import fetch <NextLabelingSet> labels/round-3.csv` fetches it.
        next_round = LabelingSetGeneration(self, "NextRound", transform=transform, output_bucket=bucket)

        self.quality_watch(quality)

        CfnOutput(self, "TransformId", value=labels.transform_id)
        CfnOutput(self, "LabelImportTaskRunId", value=labels.task_run_id)
        CfnOutput(self, "F1", value=quality.f1)
        CfnOutput(self, "Precision", value=quality.precision)
        CfnOutput(self, "Recall", value=quality.recall)
        CfnOutput(self, "AreaUnderPRCurve", value=quality.area_under_pr_curve)
        CfnOutput(self, "NextLabelingSet", value=next_round.output_s3_path)

    def quality_watch(self, quality: TransformEvaluation) -> None:
        """An alarm when a round's F1 comes within 0.05 of the gate (a round below the gate fails its deploy
        instead), and a dashboard of the four metrics of each evaluation."""
        per_round = {"statistic": "Minimum", "period": Duration.days(1)}  # one evaluation a deploy: few points
        quality.metric_f1(**per_round).create_alarm(
            self,
            "F1NearTheGate",
            alarm_description=f"F1 of the last label round is below {F1_WARNING}: the gate fails below {MIN_F1}",
            threshold=F1_WARNING,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
        )
        cloudwatch.Dashboard(
            self,
            "QualityDashboard",
            widgets=[
                [
                    cloudwatch.GraphWidget(
                        title="FindMatches quality per label round",
                        left=[
                            quality.metric_f1(**per_round, label="F1"),
                            quality.metric_precision(**per_round, label="Precision"),
                            quality.metric_recall(**per_round, label="Recall"),
                            quality.metric_area_under_pr_curve(**per_round, label="Area under PR curve"),
                        ],
                        left_y_axis=cloudwatch.YAxisProps(min=0, max=1),
                        left_annotations=[cloudwatch.HorizontalAnnotation(value=MIN_F1, label="gate: min F1")],
                        width=24,
                    )
                ]
            ],
        )


app = App()
CustomerMatchingStack(app, "GlueLabelImportExample")
app.synth()
