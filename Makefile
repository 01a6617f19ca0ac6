# The course's commands. Each target installs what it needs into .venv first.
#   make lab         open the course in JupyterLab (as root too: adds --allow-root), with
#                    overrides as make variables:
#                      PORT=8890         the port, 1-65535 (default 8888; JupyterLab tries
#                                        the next ones if it is taken)
#                      IP=0.0.0.0        the address to listen on (default localhost; 0.0.0.0
#                                        to reach it from outside a container)
#                      NO_BROWSER=1      do not open a browser (e.g. on a server, in Docker);
#                                        1/yes/true/on, or 0/no/false/off (the default)
#                      LAB_ARGS="..."    any other JupyterLab options, passed on as they are
#                    e.g. make lab PORT=8890 IP=0.0.0.0 NO_BROWSER=1
#   make app         serve the explorer as a page of its own (Voilà), apps/explorer.ipynb
#   make test        run the whole test suite (unit tests + every notebook), its files in
#                    JOBS=2 processes side by side (JOBS=1: one after the other)
#   make notebooks   re-execute every notebook in place, so the repo shows fresh outputs
#   make benchmarks  print the speed figures
#   make pins        regenerate environment.yml and binder/ from pyproject.toml
#   make badges      rewrite launch badges + Colab install cells from pyproject's Repository
#                    (a fork: make badges REPO=https://github.com/you/your-fork [BRANCH=name])
#   make student     write student/: the notebooks with exercise solutions removed
#                    (badges pointing at a student repository: make student REPO=... [BRANCH=...])
#   make test-student run every student copy whole (make test runs the parts that differ)
#   make test-isa    run the tests of the lessons' claims (and the quiz's) with XLA compiling for
#                    another CPU: ISA=SSE4_2 (default), AVX, AVX2 or AVX512 (XLA_FLAGS'
#                    --xla_cpu_max_isa; a learner's laptop may pick other instructions than yours)
#   make test-colab  run lessons 01, 06 and 07 under Colab's versions (builds .venv-colab)
#   make test-binder build Binder's environment in a fresh .venv-binder and serve the course
#                    (BINDER_ARGS=--reuse: keep a .venv-binder built before)
# For instructors (docs/instructors.md; these install the instructor extra into .venv):
#   make release     the nbgrader course in course/: an assignment per lesson built from the
#                    notebooks (source/) and its student version (release/); LESSONS="01 02"
#                    for some lessons only
#   make collect LESSON=01    submissions downloaded into course/downloaded/lesson01/archive/
#                    (<student>__<notebook>.ipynb, or zip files) -> course/submitted/
#   make autograde LESSON=01  run and score every submission (course/gradebook.db)
#   make feedback LESSON=01   one HTML page per submission in course/feedback/, and the scores
#   make site        build the course website into build/site (nothing is executed)
#                    (the JupyterHub launch button opens HUB=https://your.hub; default: make hub's)
#   make site-serve  serve build/site on http://127.0.0.1:8080 (SITE_PORT=...)
#   make hub         a JupyterHub on http://127.0.0.1:8000 to try a class (HUB_PORT=...;
#                    LOCAL_REPO=1: its link clones this checkout instead of GitHub)
#   make hub-link HUB=https://your.hub   print the course's nbgitpuller link for that hub

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

# make lab's overrides (see the header).
PORT ?= 8888
IP ?= localhost
NO_BROWSER ?=
LAB_ARGS ?=
# JupyterLab refuses to start as root (Docker, WSL, cloud shells) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# The spellings of yes and no that NO_BROWSER takes.
_YES := 1 y yes true on Y Yes YES True TRUE On ON
_NO := 0 n no false off N No NO False FALSE Off OFF
LAB_COMMAND := $(VENV)/bin/jupyter lab notebooks/ --port=$(PORT) --ip=$(IP) \
	$(if $(filter $(_YES),$(NO_BROWSER)),--no-browser) $(ALLOW_ROOT) $(LAB_ARGS)

# A bad PORT or NO_BROWSER is reported before anything is installed.
_digits = $(subst 0,,$(subst 1,,$(subst 2,,$(subst 3,,$(subst 4,,$(subst 5,,$(subst 6,,$(subst 7,,$(subst 8,,$(subst 9,,$(1)))))))))))
_spaced = $(subst 0,0 ,$(subst 1,1 ,$(subst 2,2 ,$(subst 3,3 ,$(subst 4,4 ,$(subst 5,5 ,$(subst 6,6 ,$(subst 7,7 ,$(subst 8,8 ,$(subst 9,9 ,$(1)))))))))))
_PORT_ERROR := PORT must be a port number in 1-65535 like 8888, got '$(PORT)'
ifneq ($(filter lab,$(MAKECMDGOALS)),)
ifneq ($(words $(PORT))$(call _digits,$(PORT)),1)
$(error $(_PORT_ERROR))
endif
# Digits only from here on, so the shell sees a number; no leading 0, at most 5 digits.
ifneq ($(filter 0%,$(PORT))$(word 6,$(call _spaced,$(PORT))),)
$(error $(_PORT_ERROR))
endif
ifneq ($(shell test $(PORT) -le 65535 && echo ok),ok)
$(error $(_PORT_ERROR))
endif
ifneq ($(words $(NO_BROWSER)),0)
ifneq ($(words $(NO_BROWSER))$(filter $(_YES) $(_NO),$(NO_BROWSER)),1$(NO_BROWSER))
$(error NO_BROWSER must be 1 (do not open a browser) or 0, got '$(NO_BROWSER)')
endif
endif
endif

.PHONY: lab app test notebooks benchmarks pins venv clean badges student test-student test-isa test-colab test-binder \
	instructor release collect autograde feedback site site-serve hub hub-link

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed, found " + sys.version.split()[0] + "; set PYTHON=python3.11")'
	@echo "Installing the course into $(VENV): TensorFlow, JupyterLab and the test tools."
	@echo "The first time, pip downloads several hundred MB (it lists each package as it goes); a few minutes."
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[lab,test]"
	rm -f $(VENV)/.installed-*
	touch $@
	@echo "Installed. Next: make lab (open the course) or make test (run the tests)."

# The instructor extra (nbgrader, Sphinx, JupyterHub), on top of the course's environment.
# `make test` installs it too: CI tests the instructor tools.
INSTRUCTOR_STAMP := $(VENV)/.instructor-$(shell cksum pyproject.toml | cut -d' ' -f1)
instructor: $(INSTRUCTOR_STAMP)

$(INSTRUCTOR_STAMP): $(STAMP)
	$(PY) -m pip install -e ".[lab,test,instructor]"
	rm -f $(VENV)/.instructor-*
	touch $@

lab: $(STAMP)
	$(LAB_COMMAND)

app: $(STAMP)
	$(VENV)/bin/voila apps/explorer.ipynb

# Test files run in JOBS processes side by side (pytest-xdist; a file's tests stay in one process,
# so its module fixtures are trained once). JOBS=1 runs them one after the other.
JOBS ?= 2
# One word of digits, no leading 0, at most 2 digits (the same checks as PORT's, in make alone).
ifneq ($(filter test test-isa,$(MAKECMDGOALS)),)
ifneq ($(words $(JOBS))$(call _digits,$(JOBS))$(filter 0%,$(JOBS))$(word 3,$(call _spaced,$(JOBS))),1)
$(error JOBS must be a number of processes from 1 to 99, like 2, got '$(JOBS)')
endif
endif
XDIST = $(if $(filter 1,$(JOBS)),,-n $(JOBS) --dist loadfile)

test: $(INSTRUCTOR_STAMP)
	$(PY) -m pytest $(XDIST)

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

ISA ?= SSE4_2
ifneq ($(filter test-isa,$(MAKECMDGOALS)),)
ifeq ($(filter SSE4_2 AVX AVX2 AVX512,$(ISA)),)
$(error ISA must be one of SSE4_2 AVX AVX2 AVX512, got '$(ISA)')
endif
endif

test-isa: $(STAMP)
	XLA_FLAGS="$(strip $(XLA_FLAGS) --xla_cpu_max_isa=$(ISA))" $(PY) -m pytest $(XDIST) tests/test_lesson_0*.py tests/test_quiz.py

test-colab: $(STAMP)
	$(PY) tools/colab_env.py

test-binder: $(STAMP)
	$(PY) tools/binder_env.py $(BINDER_ARGS)

# LESSON (one) or LESSONS (several) numbers, e.g. LESSON=01; every lesson without.
GRADE_LESSONS = $(LESSON) $(LESSONS)

release: $(INSTRUCTOR_STAMP)
	$(PY) tools/nbgrader_course.py release $(GRADE_LESSONS)

collect: $(INSTRUCTOR_STAMP)
	$(PY) tools/nbgrader_course.py collect $(GRADE_LESSONS)

autograde: $(INSTRUCTOR_STAMP)
	$(PY) tools/nbgrader_course.py autograde $(GRADE_LESSONS)

feedback: $(INSTRUCTOR_STAMP)
	$(PY) tools/nbgrader_course.py feedback $(GRADE_LESSONS)
	$(PY) tools/nbgrader_course.py scores $(GRADE_LESSONS)

site: $(INSTRUCTOR_STAMP)
	$(PY) tools/site.py build $(if $(HUB),--hub $(HUB))

SITE_PORT ?= 8080
site-serve: $(STAMP)
	$(PY) tools/site.py serve --port $(SITE_PORT)

HUB_PORT ?= 8000
hub: $(INSTRUCTOR_STAMP)
	$(PY) tools/hub.py start --port $(HUB_PORT) $(if $(filter-out 0,$(LOCAL_REPO)),--local-repo)

hub-link: $(STAMP)
	$(PY) tools/hub.py link --hub "$(HUB)"

clean:
	rm -rf $(VENV) student .venv-colab .venv-binder course build .cache/hub .cache/hub-proxy
