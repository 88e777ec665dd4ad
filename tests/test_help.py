"""What ``help()`` shows a newcomer: every attribute the README names, and defaults a person can read."""

from __future__ import annotations

import pydoc

import pytest

from glue_label_import import LabelImport, LabelingSetGeneration, TransformEvaluation


@pytest.mark.parametrize("construct", [LabelImport, TransformEvaluation, LabelingSetGeneration])
def test_help_shows_readable_defaults_and_the_transform_id(construct: type) -> None:
    text = pydoc.render_doc(construct, renderer=pydoc.plaintext)
    assert " object at 0x" not in text
    assert "timeout: 'Optional[Duration]' = None" in text
    assert "Default (None): 1 hour" in text
    assert " |  transform_id\n |      The TransformId" in text


def test_label_imports_help_lists_every_label_source() -> None:
    text = pydoc.render_doc(LabelImport, renderer=pydoc.plaintext)
    for factory in ("from_asset", "from_directory", "from_s3_path", "from_bucket"):
        assert factory in text, factory
