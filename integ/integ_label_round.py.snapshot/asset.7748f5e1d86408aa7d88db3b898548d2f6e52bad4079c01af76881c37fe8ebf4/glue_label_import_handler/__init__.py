"""The custom-resource handler: one Lambda function serves every resource of the library in a stack.

Installed as ``glue_label_import._handler`` and staged into the Lambda asset as the package
``glue_label_import_handler`` (with a one-line ``index.py`` for Lambda's ``index.handler``); its
modules import each other relatively. ``index`` wires crhelper to the ``engine``, which runs a
resource's Glue ML task run; ``imports``, ``evaluation`` and ``generation`` are what differs per
resource type.
"""
