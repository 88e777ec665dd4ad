"""LabelImport refuses at synth what Glue would refuse, warns about weak labeling sets, and orders imports."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import Stack
from aws_cdk import aws_glue as glue
from aws_cdk.assertions import Annotations, Match, Template

from glue_label_import import LabelImport, LabelSource
from glue_label_import.label_file import LabelFileError
from glue_label_import.testing.examples import find_matches_transform
from support import new_stack

HEADER = "labeling_set_id,label,customer_id,name\n"


def write(tmp_path: Path, text: str, name: str = "labels.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def rows(set_id: str, count: int, start: int = 0) -> str:
    return "".join(f"{set_id},A,{start + n},Name {n}\n" for n in range(count))


def test_a_file_glue_would_refuse_fails_synth_naming_file_and_line(tmp_path: Path) -> None:
    labels = write(tmp_path, HEADER + "s1,A,1,Ann\ns1,,2,Anne\n")
    refused = r"(?s)labels\.csv is not a valid Glue label file.*line 3: empty 'label'"
    with pytest.raises(ValueError, match=refused) as raised:
        LabelImport(new_stack(), "Labels", transform="tfm-1", source=LabelSource.from_asset(labels))
    assert isinstance(raised.value, LabelFileError)


def test_the_transforms_primary_key_column_is_required(tmp_path: Path) -> None:
    labels = write(tmp_path, "labeling_set_id,label,id,name\ns1,A,1,Ann\ns1,A,2,Anne\n")
    stack = new_stack()
    transform = find_matches_transform(stack, primary_key="customer_id")
    with pytest.raises(ValueError, match="customer_id"):
        LabelImport(stack, "Labels", transform=transform, source=LabelSource.from_asset(labels))


def test_without_a_known_primary_key_any_column_set_passes(tmp_path: Path) -> None:
    labels = write(tmp_path, "labeling_set_id,label,id,name\ns1,A,1,Ann\ns1,A,2,Anne\n")
    stack = new_stack()
    LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_asset(labels))
    Template.from_stack(stack).resource_count_is("Custom::GlueImportLabels", 1)


@pytest.mark.parametrize(("size", "shown"), [(1, "1 row"), (31, "31 rows"), (50, "50 rows")])
def test_weak_labeling_sets_are_synth_warnings(tmp_path: Path, size: int, shown: str) -> None:
    labels = write(tmp_path, HEADER + rows("big", size) + rows("fine", 10, start=100))
    stack = new_stack()
    LabelImport(stack, "Labels", transform=find_matches_transform(stack), source=LabelSource.from_asset(labels))
    annotations = Annotations.from_stack(stack)
    annotations.has_warning("/Labels/Labels", Match.string_like_regexp(f"labels.csv: line 2: .*big.*{shown}"))
    assert annotations.find_error("*", Match.any_value()) == []


def test_a_set_over_50_rows_fails_synth(tmp_path: Path) -> None:
    labels = write(tmp_path, HEADER + rows("huge", 51))
    with pytest.raises(ValueError, match=r"line 2: .*huge.*51 rows"):
        LabelImport(new_stack(), "Labels", transform="tfm-1", source=LabelSource.from_asset(labels))


def test_the_example_labels_pass_against_the_example_transform() -> None:
    stack = new_stack()
    labels = Path(__file__).parent.parent / "labels" / "round-1.csv"
    LabelImport(stack, "Labels", transform=find_matches_transform(stack), source=LabelSource.from_asset(str(labels)))
    assert Annotations.from_stack(stack).find_warning("*", Match.any_value()) == []


def test_imports_into_one_transform_run_in_declaration_order(tmp_path: Path) -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    other = find_matches_transform(stack, "Other")
    labels = write(tmp_path, HEADER + rows("s", 10))
    first = LabelImport(
        stack, "Replace", transform=transform, source=LabelSource.from_asset(labels), replace_all_labels=True
    )
    second = LabelImport(
        stack, "AppendOne", transform=transform, source=LabelSource.from_s3_path("s3://team-labels/a.csv")
    )
    elsewhere = LabelImport(
        stack, "Elsewhere", transform=other, source=LabelSource.from_s3_path("s3://team-labels/b.csv")
    )
    third = LabelImport(
        stack, "AppendTwo", transform=transform, source=LabelSource.from_s3_path("s3://team-labels/c.csv")
    )
    by_id = LabelImport(stack, "ById1", transform="tfm-1", source=LabelSource.from_s3_path("s3://team-labels/d.csv"))
    by_id_next = LabelImport(
        stack, "ById2", transform="tfm-1", source=LabelSource.from_s3_path("s3://team-labels/e.csv")
    )
    by_ref = LabelImport(
        stack, "ByRef", transform=transform.ref, source=LabelSource.from_s3_path("s3://team-labels/f.csv")
    )

    resources = Template.from_stack(stack).find_resources("Custom::GlueImportLabels")

    def logical(label_import: LabelImport) -> str:
        (logical_id,) = [i for i in resources if i.startswith(label_import.node.id)]
        return logical_id

    def imports_before(label_import: LabelImport) -> set[str]:
        return {dep for dep in resources[logical(label_import)].get("DependsOn", []) if dep in resources}

    assert imports_before(first) == set()
    assert imports_before(second) == {logical(first)}
    assert imports_before(third) == {logical(second)}
    assert imports_before(elsewhere) == set()
    assert imports_before(by_id) == set()
    assert imports_before(by_id_next) == {logical(by_id)}
    assert imports_before(by_ref) == {logical(third)}  # the same transform, given by its Ref


def transform_over_a_table(stack: Stack, columns: list[str], database: str = "crm") -> glue.CfnMLTransform:
    """A CfnMLTransform over crm.customers, described by a CfnTable of the same stack."""
    glue.CfnTable(
        stack,
        "Table",
        catalog_id="123456789012",
        database_name=database,
        table_input=glue.CfnTable.TableInputProperty(
            name="customers",
            storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                columns=[glue.CfnTable.ColumnProperty(name=name, type="string") for name in columns]
            ),
        ),
    )
    return find_matches_transform(stack)


def test_label_columns_must_be_the_input_tables_columns(tmp_path: Path) -> None:
    labels = write(tmp_path, "labeling_set_id,label,customer_id,e_mail\ns1,A,1,a\ns1,A,2,b\n")
    stack = new_stack()
    transform = transform_over_a_table(stack, ["customer_id", "email", "phone"])
    expected = r"must be those of the transform's input table \(customer_id, email, phone\): missing email, phone;"
    with pytest.raises(ValueError, match=expected + " not in the table e_mail"):
        LabelImport(stack, "Labels", transform=transform, source=LabelSource.from_asset(labels))


def test_label_columns_that_are_the_tables_pass_in_any_order_and_case(tmp_path: Path) -> None:
    labels = write(tmp_path, "label,Name,labeling_set_id,customer_id\nA,Ann,s1,1\nA,Anne,s1,2\n")
    stack = new_stack()
    transform = transform_over_a_table(stack, ["customer_id", "name"])
    LabelImport(stack, "Labels", transform=transform, source=LabelSource.from_asset(labels))
    Template.from_stack(stack).resource_count_is("Custom::GlueImportLabels", 1)


def test_a_table_of_another_database_is_not_the_transforms(tmp_path: Path) -> None:
    labels = write(tmp_path, HEADER + rows("s1", 2))
    stack = new_stack()
    transform = transform_over_a_table(stack, ["something", "else"], database="other")
    LabelImport(stack, "Labels", transform=transform, source=LabelSource.from_asset(labels))
    Template.from_stack(stack).resource_count_is("Custom::GlueImportLabels", 1)


def test_a_folders_merged_file_is_named_by_its_folder_and_files(tmp_path: Path) -> None:
    folder = tmp_path / "labels"
    folder.mkdir()
    (folder / "round-1.csv").write_text("labeling_set_id,label,customer_id,e_mail\ns1,A,1,a\ns1,A,2,b\n")
    stack = new_stack()
    transform = transform_over_a_table(stack, ["customer_id", "email"])
    with pytest.raises(ValueError, match=rf"^the merged label files of {folder} \(round-1\.csv\): the label file's"):
        LabelImport(stack, "Labels", transform=transform, source=LabelSource.from_directory(str(folder)))
