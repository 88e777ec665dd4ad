# make synth: set up, then `cdk synth` of the example app (offline).  make demo: its label round on a
# local Glue.  make test: set up, then lint and pytest.
VENV := .venv
STAMP := $(VENV)/.installed
# Node 22 from npm (node_modules/.bin) runs jsii and the CDK CLI; Node 20 is end-of-life.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: setup synth demo lint test bench clean

setup: $(STAMP) node_modules/.installed

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
	ruff check constructs lambda tests scripts app.py
	ruff format --check constructs lambda tests scripts app.py
	mypy -p glue_label_import

test: lint
	python -m pytest -n 2 --dist loadfile  # two workers: the end-to-end file mostly waits on the clock

clean:
	rm -rf $(VENV) node_modules cdk.out

demo: setup
	python scripts/demo.py

bench: setup
	python scripts/bench.py
