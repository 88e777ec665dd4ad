"""The columns of a transform's input table, when the table is a `glue.CfnTable` of the same app."""

from __future__ import annotations

from typing import Any, Optional

from aws_cdk import Stack, Token
from aws_cdk import aws_glue as glue

from glue_label_import._handler.rules import LABEL_FILE_COLUMNS, column_mismatch


def input_table_columns(transform: glue.CfnMLTransform) -> Optional[list[str]]:
    """The data columns of the transform's (first) input table, or None when the app does not state them.

    Found only when the table's database and name resolve at synth to those of a `glue.CfnTable`
    anywhere in the app, and its columns are resolved too: anything else is left to the deploy.
    """
    stack = Stack.of(transform)
    tables = _resolved(stack, transform.input_record_tables, "glueTables")
    if not isinstance(tables, list) or not tables or not isinstance(tables[0], dict):
        return None
    wanted = (tables[0].get("databaseName"), tables[0].get("tableName"))
    for table in transform.node.root.node.find_all():
        if isinstance(table, glue.CfnTable) and _name_of(table) == wanted:
            return _columns_of(table)
    return None


def table_mismatch(label_columns: tuple[str, ...], table_columns: list[str]) -> Optional[str]:
    """What differs between a label file's data columns and the table's (names compared in lower case), or None."""
    data_columns = (column for column in label_columns if column.lower() not in LABEL_FILE_COLUMNS)
    return column_mismatch(data_columns, table_columns, elsewhere="the table")


def _name_of(table: glue.CfnTable) -> tuple[Any, Any]:
    stack = Stack.of(table)
    return stack.resolve(table.database_name), _resolved(stack, table.table_input, "name")


def _columns_of(table: glue.CfnTable) -> Optional[list[str]]:
    stack = Stack.of(table)
    table_input = stack.resolve(table.table_input)
    if not isinstance(table_input, dict):
        return None
    descriptor = table_input.get("storageDescriptor") or {}
    columns = [*(descriptor.get("columns") or []), *(table_input.get("partitionKeys") or [])]
    names = [column.get("name") if isinstance(column, dict) else None for column in columns]
    if not names or not all(isinstance(name, str) and not Token.is_unresolved(name) for name in names):
        return None
    return [str(name) for name in names]


def _resolved(stack: Stack, value: Any, key: str) -> Any:
    resolved = stack.resolve(value)
    return resolved.get(key) if isinstance(resolved, dict) else None
