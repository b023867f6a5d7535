# The Keras APIs course. `make demo` runs the instructor pipeline end to end, `make test` the tests.
# Both create the environment in .venv on first use and reuse it afterwards.

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
# nbgrader runs `alembic` through PATH, so the environment's bin comes first.
export PATH := $(BIN):$(PATH)

.PHONY: demo test lab lab-student release grade report lint clean

demo: $(STAMP)  ## release, a demo class, parallel autograde, feedback, grades CSV and report
	$(PY) -m keras_course.course demo

test: $(STAMP)  ## the whole test suite (what .ci/run runs)
	$(PY) -m pytest

lab: $(STAMP)  ## JupyterLab on the whole course, formgrader included (instructors)
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1

lab-student: $(STAMP)  ## JupyterLab on release/ (self-learners)
	cd release && $(BIN)/jupyter lab --no-browser --ip=127.0.0.1

release: $(STAMP)  ## regenerate release/ from source/
	$(PY) -m keras_course.course release

grade: $(STAMP)  ## autograde everything in submitted/, then feedback, grades CSV and report
	$(PY) -m keras_course.course grade

lint: $(STAMP)
	$(BIN)/ruff check src tests source

$(STAMP): requirements.txt pyproject.toml
	@# grading runs student code inside bubblewrap (see the README); install it when missing
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing bubblewrap (Debian package) for the grading sandbox"; \
	    apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; \
	  else echo "Grading needs bubblewrap: run 'sudo apt-get install bubblewrap' (or your system's equivalent)"; exit 1; fi; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

clean:  ## remove generated grading state (keeps source/, release/ and the environment)
	rm -rf submitted autograded/*/ feedback grades reports gradebook.db .demo
