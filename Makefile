# make synth: set up, then `cdk synth` of the example app (offline).  make demo: its label round on a
# local Glue.  make test: set up, then lint (ruff, mypy, the GitHub workflows' schema) and pytest
# (integ/'s snapshots compared offline, too).  make integ-snapshots: write integ/*.snapshot again,
# offline.  make integ: the integration tests on AWS (deploy, assert, destroy): the one target that
# needs an account.
VENV := .venv
STAMP := $(VENV)/.installed
# Node 22 from npm (node_modules/.bin) runs jsii and the CDK CLI; Node 20 is end-of-life.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: setup synth demo lint test bench clean integ integ-snapshots

# tmux: the terminal that tests/test_label_command.py runs `glue-label-import label` in (skipped without it).
setup: $(STAMP) node_modules/.installed
	@command -v tmux >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux) \
		|| echo "tmux could not be installed: the test of glue-label-import label in a real terminal is skipped"

$(STAMP): requirements.txt pyproject.toml
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: setup
	npx cdk synth --no-notices --no-version-reporting

lint: setup
	ruff check constructs lambda tests scripts integ app.py
	ruff format --check constructs lambda tests scripts integ app.py
	mypy -p glue_label_import
	mypy integ/*.py
	check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml  # offline: the schema ships with it

test: lint
	python -m pytest -n 2 --dist loadfile  # two workers: the end-to-end file mostly waits on the clock

clean:
	rm -rf $(VENV) node_modules cdk.out

demo: setup
	python scripts/demo.py

bench: setup
	python scripts/bench.py

# integ-runner reads integ.config.json: it finds integ/integ_*.py and synthesizes each through
# integ/run_integ_app.py, with the venv's python3.
INTEG_RUNNER := integ-runner

# Synthesize the integ apps into their snapshots, replacing them: no deploy, no credentials.
integ-snapshots: setup
	rm -rf integ/*.snapshot
	$(INTEG_RUNNER) --update-on-failed --dry-run

# Deploy each integ test to the account of your credentials, run its assertions, destroy it, and write
# its snapshot; the first step, then the next, whose hook deploys the first step's fresh snapshot.
# Needs AWS_REGION, credentials (AWS_PROFILE or the like) and an account bootstrapped in that region.
INTEG_ON_AWS := $(INTEG_RUNNER) --force --no-update-workflow --parallel-regions "$$AWS_REGION"
integ: setup
	@test -n "$$AWS_REGION" || { echo "make integ deploys to AWS: set AWS_REGION and your credentials" >&2; exit 2; }
	$(INTEG_ON_AWS) integ_label_round.py
	$(INTEG_ON_AWS) integ_next_label_round.py
