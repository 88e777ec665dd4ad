"""LabelSource.from_directory and from_asset: label files checked at synth, staged in Glue's column order."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from glue_label_import import LabelImport, LabelSource
from glue_label_import.label_file import LabelFileError
from glue_label_import.staging import STAGING_FOLDER
from glue_label_import.testing.examples import find_matches_transform
from support import new_stack

HEADER = "id,name,labeling_set_id,label\n"


def rows(set_id: str, size: int, first_id: int = 1, label: str = "A") -> str:
    """Return ``size`` CSV rows of labeling set ``set_id``, all with ``label``."""
    return "".join(f"{first_id + n},name {first_id + n},{set_id},{label}\n" for n in range(size))


def glue_rows(set_id: str, size: int, first_id: int = 1, label: str = "A") -> str:
    """The rows of :func:`rows` as Glue reads them: ``labeling_set_id,label`` first, then ``id,name``."""
    return "".join(f"{set_id},{label},{first_id + n},name {first_id + n}\n" for n in range(size))


def folder_of(tmp_path: Path, files: dict[str, str], name: str = "labels") -> Path:
    """Write ``files`` (name: content) into a new folder ``name`` under ``tmp_path``."""
    folder = tmp_path / name
    folder.mkdir()
    for file, content in files.items():
        (folder / file).write_text(content, encoding="utf-8")
    return folder


def synth(outdir: Path, source: LabelSource) -> tuple[str, str]:
    """Synthesize a stack importing ``source``; return the InputS3Path's key and the asset's content."""
    stack = new_stack(str(outdir))
    LabelImport(stack, "Labels", transform="tfm-1", source=source, replace_all_labels=True)
    stack.node.root.synth()
    template = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::GlueImportLabels"]
    input_path: Any = resource["Properties"]["InputS3Path"]
    key = json.dumps(input_path).rsplit("/", 1)[1].split('"')[0]
    return key, (outdir / f"asset.{key}").read_text(encoding="utf-8")


ROUND_1 = HEADER + rows("s1", 3) + rows("s2", 2, 4, "B")
ROUND_2 = "label,labeling_set_id,name,id\n" + 'B,s1,"Smith, Jo",10\n\nA,s1,"say ""hi""",11\nA,s3,x,12\nA,s3,y,13\n'


def test_merged_asset_holds_every_row_once_in_glues_column_order_with_set_ids_prefixed_by_file_name(
    tmp_path: Path,
) -> None:
    folder = folder_of(tmp_path, {"round-2.csv": ROUND_2, "round-1.csv": ROUND_1, "notes.txt": "not labels"})
    _, content = synth(tmp_path / "out", LabelSource.from_directory(str(folder)))
    assert content == (
        "labeling_set_id,label,id,name\n"
        "round-1/s1,A,1,name 1\n"
        "round-1/s1,A,2,name 2\n"
        "round-1/s1,A,3,name 3\n"
        "round-1/s2,B,4,name 4\n"
        "round-1/s2,B,5,name 5\n"
        'round-2/s1,B,10,"Smith, Jo"\n'
        'round-2/s1,A,11,"say ""hi"""\n'
        "round-2/s3,A,12,x\n"
        "round-2/s3,A,13,y\n"
    )
    assert (tmp_path / "out" / STAGING_FOLDER).is_dir()  # staged in the cloud assembly, not a fixed temp path


def test_same_folder_same_asset_and_a_changed_folder_a_new_one(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, {"round-1.csv": ROUND_1, "round-2.csv": ROUND_2})
    first, _ = synth(tmp_path / "first", LabelSource.from_directory(folder))
    again, _ = synth(tmp_path / "again", LabelSource.from_directory(folder))
    assert first == again
    (folder / "round-3.csv").write_text(HEADER + rows("s1", 2, 20), encoding="utf-8")
    changed, content = synth(tmp_path / "changed", LabelSource.from_directory(folder))
    assert changed != first
    assert content.endswith("round-3/s1,A,20,name 20\nround-3/s1,A,21,name 21\n")


def test_pattern_chooses_the_files(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, {"round-1.csv": ROUND_1, "draft.csv": "not a label file"})
    _, content = synth(tmp_path / "out", LabelSource.from_directory(folder, pattern="round-*.csv"))
    assert content == "labeling_set_id,label,id,name\n" + glue_rows("round-1/s1", 3) + glue_rows(
        "round-1/s2", 2, 4, "B"
    )


def test_files_with_other_columns_are_refused_naming_the_file_and_the_columns(tmp_path: Path) -> None:
    other = "id,full_name,labeling_set_id,label,score\n1,a,s1,A,1\n2,b,s1,A,2\n"
    folder = folder_of(tmp_path, {"a.csv": ROUND_1, "b.csv": other})
    stack = new_stack()
    source = LabelSource.from_directory(folder)
    message = (
        f"label file {folder / 'b.csv'} has other columns than {folder / 'a.csv'}: "
        "it lacks name and has besides full_name, score"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        LabelImport(stack, "Labels", transform="tfm-1", source=source)


def test_a_file_glue_cannot_import_is_refused_naming_it_and_the_line(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, {"a.csv": ROUND_1, "b.csv": HEADER + "1,a,,A\n2,b,s1,A\n"})
    with pytest.raises(LabelFileError, match=re.escape(f"{folder / 'b.csv'} is not a valid Glue label file")) as error:
        LabelImport(new_stack(), "Labels", transform="tfm-1", source=LabelSource.from_directory(folder))
    assert "line 2: empty 'labeling_set_id'" in str(error.value)


def test_files_of_one_name_but_for_the_extension_are_refused(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, {"round-1.csv": ROUND_1, "round-1.txt": ROUND_1})
    with pytest.raises(ValueError, match=r"round-1\.csv and .*round-1\.txt have the same name but for the extension"):
        LabelImport(new_stack(), "Labels", transform="tfm-1", source=LabelSource.from_directory(folder, pattern="*"))


def test_a_merge_over_glues_10_mb_limit_is_refused_with_its_size_and_the_limit(tmp_path: Path) -> None:
    padding = "x" * 990
    folder = tmp_path / "big"
    folder.mkdir()
    for name, first in (("a.csv", 0), ("b.csv", 5_000)):
        with (folder / name).open("w", encoding="utf-8") as file:
            file.write(HEADER)
            for n in range(first, first + 5_000):
                file.write(f"{n},{padding},s{n // 10},A\n")
    source = LabelSource.from_directory(folder)
    with pytest.raises(
        ValueError, match=r"would be 10,\d{3},\d{3} bytes, over Glue's label file limit of 10,000,000 bytes"
    ):
        LabelImport(new_stack(), "Labels", transform="tfm-1", source=source)


def test_an_empty_folder_is_refused_naming_it_and_the_pattern(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, {"notes.txt": "no labels here"})
    with pytest.raises(ValueError, match=re.escape(f"label folder {str(folder)!r} has no file matching '*.csv'")):
        LabelSource.from_directory(str(folder))


@pytest.mark.parametrize(
    ("name", "message"),
    [("absent", "does not exist"), ("file.csv", "is not a folder")],
)
def test_a_path_that_is_not_a_folder_is_refused(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "file.csv").write_text(ROUND_1, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"label folder {str(tmp_path / name)!r} {message}")):
        LabelSource.from_directory(str(tmp_path / name))


def test_wrong_types_are_refused_naming_the_argument() -> None:
    with pytest.raises(TypeError, match=r"label folder must be a path \(str or os.PathLike\), got int: 123"):
        LabelSource.from_directory(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"pattern must be a str, got int: 7"):
        LabelSource.from_directory(".", pattern=7)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"pattern 'a/\*.csv' must be a non-empty file name pattern"):
        LabelSource.from_directory(".", pattern="a/*.csv")


def test_the_example_apps_two_rounds_merge_into_ten_labeling_sets(tmp_path: Path) -> None:
    labels = Path(__file__).parent.parent / "labels"
    _, content = synth(tmp_path, LabelSource.from_directory(labels))
    lines = content.splitlines()
    assert len(lines) == 1 + 119
    set_ids = {line.split(",", 1)[0] for line in lines[1:]}
    assert set_ids == {f"round-{r}/set-{s:02d}" for r in (1, 2) for s in range(1, 6)}


def test_a_header_that_repeats_a_column_is_refused_at_synth(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("id,name,labeling_set_id,label,id\n" + "1,a,s1,A,1\n2,b,s1,A,2\n", encoding="utf-8")
    with pytest.raises(LabelFileError, match=re.escape("line 1: header repeats column 'id' (columns 1, 5)")):
        LabelImport(new_stack(), "Labels", transform="tfm-1", source=LabelSource.from_asset(str(labels)))


def test_the_file_whose_columns_differ_from_the_others_is_the_one_named(tmp_path: Path) -> None:
    other = "id,full_name,labeling_set_id,label\n1,a,s1,A\n2,b,s1,A\n"
    folder = folder_of(tmp_path, {"a.csv": other, "b.csv": ROUND_1, "c.csv": ROUND_1})
    message = (
        f"label file {folder / 'a.csv'} has other columns than {folder / 'b.csv'} and {folder / 'c.csv'}: "
        "it lacks name and has besides full_name"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        LabelImport(new_stack(), "Labels", transform="tfm-1", source=LabelSource.from_directory(folder))


def test_a_folders_warnings_name_the_users_file_and_its_own_line(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, {"round-1.csv": ROUND_1, "round-2.csv": HEADER + rows("s1", 2) + rows("s9", 1, 3)})
    stack = new_stack()
    LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_directory(folder))
    warnings = [message.entry.data for message in Annotations.from_stack(stack).find_warning("*", Match.any_value())]
    assert [warning for warning in warnings if "glue-label-import:label-file" in warning] == [
        f"{folder / 'round-2.csv'}: line 4: labeling set 's9' has 1 row, fewer than the 2-30 Glue accepts; "
        "it cannot learn from a single-row set [ack: glue-label-import:label-file]"
    ]


def test_a_folders_primary_key_error_names_the_users_file_and_its_line(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, {"round-1.csv": ROUND_1})
    stack = new_stack()
    transform = find_matches_transform(stack)  # keyed on customer_id, which the files lack
    with pytest.raises(
        LabelFileError, match=re.escape(f"{folder / 'round-1.csv'} is not a valid Glue label file")
    ) as error:
        LabelImport(stack, "Labels", transform=transform, source=LabelSource.from_directory(folder))
    assert "line 1: header has no 'customer_id' primary key column" in str(error.value)


def test_an_asset_out_of_glues_column_order_is_uploaded_with_labeling_set_id_label_first(tmp_path: Path) -> None:
    path = tmp_path / "round-2.csv"
    path.write_text(ROUND_2, encoding="utf-8")
    key, content = synth(tmp_path / "out", LabelSource.from_asset(str(path)))
    assert content == (
        'labeling_set_id,label,name,id\ns1,B,"Smith, Jo",10\n\ns1,A,"say ""hi""",11\ns3,A,x,12\ns3,A,y,13\n'
    )
    assert path.read_text(encoding="utf-8") == ROUND_2  # the user's file is left as it is
    # The asset hash follows the bytes Glue reads: a file already in that order, with the same bytes, has the same key.
    in_order = tmp_path / "in-order" / "round-2.csv"
    in_order.parent.mkdir()
    in_order.write_text(content, encoding="utf-8")
    same_key, same_content = synth(tmp_path / "again", LabelSource.from_asset(str(in_order)))
    assert (same_key, same_content) == (key, content)


def test_an_asset_in_glues_column_order_is_uploaded_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    original = "labeling_set_id,label,id\r\ns1,A,1\r\ns1,A,2\r\n"
    path.write_bytes(original.encode())
    key, _ = synth(tmp_path / "out", LabelSource.from_asset(str(path)))
    assert (tmp_path / "out" / f"asset.{key}").read_bytes() == original.encode()
    assert not (tmp_path / "out" / STAGING_FOLDER).exists()


def test_the_warnings_of_a_reordered_asset_name_the_users_file(tmp_path: Path) -> None:
    path = tmp_path / "round-1.csv"
    path.write_text(HEADER + rows("s1", 2) + rows("lonely", 1, 3), encoding="utf-8")
    stack = new_stack(str(tmp_path / "out"))
    LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_asset(str(path)))
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("label-file"))
    (warning,) = warnings
    assert str(warning.entry.data).startswith(f"{path}: line 4: labeling set 'lonely' has 1 row")
