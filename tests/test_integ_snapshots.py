"""The integration tests' committed snapshots (integ/*.snapshot) are what integ/'s apps synthesize today.

integ-runner, run as `make integ` runs it but without a deploy flag, synthesizes each integ app and
compares the templates of its stacks under test, asset hashes included, with the snapshot; it
deploys nothing and needs neither credentials nor the network. A stale snapshot fails here:
`make integ-snapshots` writes them again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def test_integ_snapshots_match_the_apps() -> None:
    env = {name: value for name, value in os.environ.items() if name not in CREDENTIALS}
    env["PATH"] = os.pathsep.join([str(ROOT / "node_modules" / ".bin"), str(Path(sys.executable).parent), env["PATH"]])
    env |= {"AWS_EC2_METADATA_DISABLED": "true", "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1"}

    result = subprocess.run(
        ["integ-runner"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, f"integ/ snapshots are stale (make integ-snapshots writes them again):\n{output}"
    for test in ("integ_label_round", "integ_next_label_round"):
        assert f"UNCHANGED  {test} " in output, output
