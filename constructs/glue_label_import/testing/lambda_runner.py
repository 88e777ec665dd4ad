"""Runs the handler from its Lambda asset folder as the Lambda Python runtime would.

    python -I -S lambda_runner.py ASSET_DIR DEPS_DIR REMAINING_SECONDS < event.json

`-I -S` leave out site-packages and the script's own folder, so only the asset (the handler and
crhelper) and DEPS_DIR (boto3 and what it needs, as the Lambda runtime provides) are importable.
Logs go to stdout as the runtime sends them to CloudWatch.
"""

import json
import logging
import sys
import time
import uuid

STARTED = "handler invoked at"


class Context:
    """Lambda's context object: the parts a handler uses."""

    def __init__(self, remaining_s: float) -> None:
        self._deadline = time.monotonic() + remaining_s
        self.function_name = "Labels-GlueLabelImportHandler"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    asset_dir, deps_dir, remaining_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
    sys.path[:0] = [asset_dir, deps_dir]
    logging.basicConfig(stream=sys.stdout, level=logging.INFO)
    event = json.load(sys.stdin)
    import index  # type: ignore[import-not-found]  # noqa: PLC0415  # the asset's, found once on sys.path

    crhelper_file = sys.modules["crhelper"].__file__ or ""
    if not crhelper_file.startswith(asset_dir):
        raise SystemExit(f"crhelper came from {crhelper_file}, not from the asset")
    print(f"{STARTED} {time.time()}", flush=True)  # when Lambda would start the clock on the request
    index.handler(event, Context(remaining_s))


if __name__ == "__main__":
    main()
