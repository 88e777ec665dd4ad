"""Lambda's entry point, handler "index.handler": the handler package's."""

from glue_label_import_handler.index import handler

__all__ = ["handler"]
