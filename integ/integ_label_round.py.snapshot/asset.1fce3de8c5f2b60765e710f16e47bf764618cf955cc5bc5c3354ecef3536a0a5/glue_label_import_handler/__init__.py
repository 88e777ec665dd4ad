"""The custom-resource handler: one Lambda function serves every resource of the library in a stack.

Installed as ``glue_label_import._handler`` and staged into the Lambda asset as the package
``glue_label_import_handler`` (with a one-line ``index.py`` for Lambda's ``index.handler``); its
modules import each other relatively:

- ``index``: crhelper wiring, one answer per request;
- ``engine``: claim, start or adopt, wait and answer a resource's Glue ML task run; a rollback's
  rule; a Delete's cancel;
- ``task``: the ``Task`` base class, what differs per resource type; ``imports``, ``evaluation``
  and ``generation``: the three tasks;
- ``run_starts``: a start that leaves at most one run, the run of a lost start reply, a cancel;
- ``handover``: the wait handed to a fresh invocation, and a request's time window;
- ``ledger``: the run ledger in DynamoDB; ``stack_status``: whether the stack rolls back;
- ``glue_runs``: Glue's ML task-run calls; ``rules``: pure, shared with synth (label columns,
  ``s3://`` paths, the TransformId rule, task-run statuses); ``request``: the properties;
- ``answers``: the Reason and the PUT to the ResponseURL; ``deadline``: a total deadline for a
  call; ``retries``: retries and error classes; ``metrics_log``: an evaluation's metrics as
  embedded metric format log lines.
"""
