# The Keras APIs course. `make demo` runs the instructor pipeline end to end, `make test` the tests.
# Both create the environment in .venv on first use and reuse it afterwards.

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
# nbgrader loads this before the course's config: autograde refuses to run unless the course's
# nbgrader_config.py loads (keras_course/grading/protections.py)
GUARD  := $(VENV)/etc/jupyter/nbgrader_config.py
# nbgrader runs `alembic` through PATH, so the environment's bin comes first.
export PATH := $(BIN):$(PATH)

.PHONY: demo test lab lab-student release grade export report bench lint typecheck clean sandbox \
        hub hub-stop hub-reset

demo: $(STAMP) $(GUARD) sandbox  ## release, a demo class, parallel autograde, feedback, grades CSV and report
	$(BIN)/keras-course demo

test: $(STAMP) $(GUARD) sandbox  ## the whole test suite (what .ci/run runs)
	$(PY) -m pytest

# JupyterLab on localhost (src/keras_course/lab.py); more options for it: make lab LAB_OPTS="--no-browser --port=8890"
LAB_OPTS ?=

lab: $(STAMP)  ## JupyterLab on the whole course, formgrader included (instructors)
	$(BIN)/keras-course lab instructor $(LAB_OPTS)

lab-student: $(STAMP)  ## JupyterLab on release/ with Validate, nothing that needs an instructor (self-learners)
	$(BIN)/keras-course lab self-learner $(LAB_OPTS)

# The course on a JupyterHub on this machine, as root (src/keras_course/hub.py, hub/): system users,
# nbgrader's exchange, formgrader for the instructor. make hub HUB_PORT=8000
HUB_PORT ?= 8000

hub: $(STAMP) sandbox  ## start JupyterHub with an instructor, three students and the exchange
	$(BIN)/keras-course hub start --port $(HUB_PORT)

hub-stop: $(STAMP)  ## stop the hub and every user's server
	$(BIN)/keras-course hub stop

hub-reset: $(STAMP)  ## stop, then delete the hub's users, homes, exchange and state
	$(BIN)/keras-course hub reset

release: $(STAMP)  ## regenerate release/ from source/
	$(BIN)/keras-course release

grade: $(STAMP) $(GUARD) sandbox  ## autograde everything in submitted/, then feedback, grades CSV and report
	$(BIN)/keras-course grade

export: $(STAMP)  ## Canvas and Moodle grade-import CSVs in grades/ (students mapped through roster.csv)
	$(BIN)/keras-course export

report: $(STAMP)  ## rewrite reports/index.html from the gradebook (grade and demo write it too)
	$(BIN)/keras-course report

bench: $(STAMP) $(GUARD) sandbox  ## stock nbgrader against make grade against the floor, same submissions
	$(PY) benchmarks/grading_speed.py $(BENCH_OPTS)

lint: $(STAMP)  ## ruff on src/, tests/ and the source/ notebooks (CI runs it before the tests)
	$(BIN)/ruff check src tests source

typecheck: $(STAMP)  ## mypy on the helper package, src/keras_course (CI runs it after lint)
	$(BIN)/mypy

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

$(GUARD): $(STAMP) src/keras_course/grading/protections.py
	$(BIN)/keras-course protections install

# Grading runs student code inside bubblewrap (see the README): the targets that grade install it
# when missing. Working through the notebooks (lab, lab-student) does not need it.
sandbox:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing bubblewrap (Debian package) for the grading sandbox"; \
	    apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; \
	  else echo "Grading needs bubblewrap: run 'sudo apt-get install bubblewrap' (or your system's equivalent)"; exit 1; fi; }

clean:  ## remove generated grading state (keeps source/, release/ and the environment)
	rm -rf submitted autograded/*/ feedback grades reports gradebook.db .demo
