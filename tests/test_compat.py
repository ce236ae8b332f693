"""Chainer 7.8.1 is unmaintained; the course keeps it running. These tests say where, and prove it."""
import concurrent.futures
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".venv-compat"
SMOKE = REPO / "tests" / "compat_smoke.py"
CHAINER_DEPS = ["six", "filelock", "typing_extensions", "protobuf"]

# (name, Python, extra pip requirements). Together with the pinned environment (Python 3.11,
# NumPy 2.4, setuptools < 81) this covers Python 3.11-3.13, NumPy 1.26 and 2.x, with and without
# pkg_resources.
MATRIX = [
    ("py312-numpy2-no-pkg_resources", "3.12", ["numpy>=2,<3", "setuptools>=81"]),
    ("py313-numpy2-no-setuptools", "3.13", ["numpy>=2.1,<3"]),
    ("py312-numpy126-pkg_resources", "3.12", ["numpy==1.26.4", "setuptools<81"]),
]


def test_pinned_environment_runs_the_smoke_script():
    result = subprocess.run([sys.executable, str(SMOKE)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"NumPy {numpy.__version__}" in result.stdout


def test_shims_are_in_place():
    import chainer  # noqa: F401
    import chainer._environment_check as check

    assert "course.compat" in check.__doc__  # the numpy.distutils / pkg_resources check is replaced
    assert numpy.sctypes["int"][-1] is numpy.int64


def test_course_after_chainer_still_fixes_resize_images():
    code = (
        "import numpy; numpy.sctypes = {'int': [numpy.int64], 'float': [numpy.float32]}; import chainer, course; "
        "import chainer.functions as F; print(F.resize_images(numpy.ones((1, 1, 2, 2), numpy.float32), (3, 3)).shape)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "(1, 1, 3, 3)" in result.stdout


def _find_python(version: str) -> str | None:
    """A working python{version}: pyenv's builds first, then PATH (pyenv's shims may not run it)."""
    candidates = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))[::-1]
    candidates.append(shutil.which(f"python{version}"))
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "import venv"], capture_output=True).returncode == 0:
            return candidate
    return None


def _chainer_wheel() -> Path:
    wheels = CACHE / "wheels"
    existing = list(wheels.glob("chainer-7.8.1-*.whl"))
    if existing:
        return existing[0]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), "chainer==7.8.1"],
        check=True,
    )
    return next(wheels.glob("chainer-7.8.1-*.whl"))


def _build(name: str, python: str, requirements: list[str], wheel: Path) -> Path:
    venv = CACHE / name
    interpreter = venv / "bin" / "python"
    stamp = venv / ".ready"
    if stamp.exists():
        return interpreter
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True)
    if not any("setuptools" in r for r in requirements):
        subprocess.run([str(interpreter), "-m", "pip", "uninstall", "-q", "-y", "setuptools"], capture_output=True)
    subprocess.run(
        [str(interpreter), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements, *CHAINER_DEPS],
        check=True,
    )
    subprocess.run([str(interpreter), "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check", str(wheel)], check=True)
    stamp.touch()
    return interpreter


@pytest.fixture(scope="module")
def compat_envs():
    """Build (once, cached in .venv-compat/) the environments of MATRIX whose Python is installed."""
    wheel = _chainer_wheel()
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        for name, version, requirements in MATRIX:
            python = _find_python(version)
            if python:
                jobs[name] = pool.submit(_build, name, python, requirements, wheel)
    return {name: job.result() for name, job in jobs.items()}


@pytest.mark.parametrize("name,version,requirements", MATRIX, ids=[m[0] for m in MATRIX])
def test_other_pythons_and_numpys(compat_envs, name, version, requirements):
    if name not in compat_envs:
        pytest.skip(f"Python {version} is not installed here (e.g. `pyenv install {version}`)")
    result = subprocess.run([str(compat_envs[name]), str(SMOKE)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Python {version}." in result.stdout
    expected_pkg_resources = "present" if "setuptools<81" in requirements else "absent"
    assert f"pkg_resources {expected_pkg_resources}" in result.stdout
    if "numpy==1.26.4" in requirements:
        assert "NumPy 1.26.4" in result.stdout
    else:
        assert "NumPy 2." in result.stdout
