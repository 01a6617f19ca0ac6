# The course's commands. Each target installs what it needs into .venv first.
#   make lab         open the course in JupyterLab
#   make app         serve the explorer as a page of its own (Voilà), apps/explorer.ipynb
#   make test        run the whole test suite (unit tests + every notebook)
#   make notebooks   re-execute every notebook in place, so the repo shows fresh outputs
#   make benchmarks  print the speed figures
#   make pins        regenerate environment.yml and binder/ from pyproject.toml
#   make badges      rewrite launch badges + Colab install cells from pyproject's Repository
#                    (a fork: make badges REPO=https://github.com/you/your-fork [BRANCH=name])
#   make student     write student/: the notebooks with exercise solutions removed
#                    (badges pointing at a student repository: make student REPO=... [BRANCH=...])
#   make test-student run every student copy whole (make test runs the parts that differ)
#   make test-colab  run lessons 01, 06 and 07 under Colab's versions (builds .venv-colab)
#   make test-binder build Binder's environment in a fresh .venv-binder and serve the course

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: lab app test notebooks benchmarks pins venv clean badges student test-student test-colab test-binder

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed, found " + sys.version.split()[0] + "; set PYTHON=python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[lab,test]"
	rm -f $(VENV)/.installed-*
	touch $@

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

app: $(STAMP)
	$(VENV)/bin/voila apps/explorer.ipynb

test: $(STAMP)
	$(PY) -m pytest

notebooks: $(STAMP)
	$(PY) tools/execute_notebooks.py --empty-cache notebooks/*.ipynb apps/*.ipynb

benchmarks: $(STAMP)
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

pins:
	$(PYTHON) tools/sync_pins.py

badges: $(STAMP)
	$(PY) tools/badges.py $(if $(REPO),--repository $(REPO)) $(if $(BRANCH),--branch $(BRANCH))

student: $(STAMP)
	$(PY) tools/student.py $(if $(REPO),--repository $(REPO)) $(if $(BRANCH),--branch $(BRANCH))

test-student: $(STAMP)
	STUDENT_FULL_RUN=1 $(PY) -m pytest tests/test_student.py

test-colab: $(STAMP)
	$(PY) tools/colab_env.py

test-binder: $(STAMP)
	$(PY) tools/binder_env.py

clean:
	rm -rf $(VENV) student .venv-colab .venv-binder
