# Two commands do all the set-up:  `make lab` opens the course, `make test` runs every test.
# Each creates .venv (Python 3.11+) and installs what it needs first; re-running skips installed steps.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CUDA   ?= 12x
PYTEST_ARGS ?=

.PHONY: lab test browser gpu doctor clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: run make PYTHON=python3.11 ...")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# Chainer 7.8.1 is an sdist whose setup.py imports pkg_resources (gone in setuptools >= 81):
	# build it with an older setuptools and no build isolation.
	$(PY) -m pip install -q --upgrade "setuptools>=77,<81" wheel
	$(PY) -m pip install -q --no-build-isolation chainer==7.8.1
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-build-isolation --no-deps -e .
	touch $(STAMP)

# Jupyter refuses to run as root unless told to (containers and CI machines often are root).
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# One test file (or notebook) per worker, one worker per core, each worker's maths library on one
# thread: on a busy or small machine, BLAS threads fighting over the cores made lessons 3-5x slower.
# A notebook cell that runs past 300 s fails (the slowest takes about 45 s) instead of stalling CI.
TEST_WORKERS ?= auto
test: $(STAMP) browser
	CHROMIUM=$(CHROMIUM) OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	$(PY) -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=300 -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile \
		tests notebooks solutions $(PYTEST_ARGS)

# tests/test_browser.py uses the widgets in JupyterLab in headless Chromium, through Playwright
# (pinned in requirements.txt). Playwright's own browser download cannot be reached here, so the
# test drives Debian's `chromium`: installed with apt-get when it is missing and we are root (as CI
# is); otherwise this says what to run, and the test fails saying the same.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for tests/test_browser.py"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
			|| echo "apt-get could not install chromium: tests/test_browser.py will fail"; \
	else \
		echo "tests/test_browser.py needs Chromium at $(CHROMIUM): run  sudo apt-get install chromium"; \
		echo "(or make test CHROMIUM=/path/to/chromium); until then that test fails"; \
	fi

gpu: $(STAMP)
	$(PY) -m pip install "cupy-cuda$(CUDA)[ctk]"

doctor: $(STAMP)
	$(PY) -m course doctor

clean:
	rm -rf $(VENV) .venv-compat runs
