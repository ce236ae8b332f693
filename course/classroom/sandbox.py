"""Where a submitted notebook runs: a temporary copy, a clean environment, limits, and no network.

What a submission is kept from, on every machine:

* the grader's environment: the kernel sees only the variables below (``PATH`` to the course's
  Python, ``HOME``, ``TMPDIR``, Jupyter and IPython folders and the course's data folder all inside
  its own copy, ``COURSE_PROFILE=quick``, ``COURSE_DEVICE=@numpy``, one maths thread), no tokens or
  settings of the instructor's;
* running on: a cell is stopped at the cell limit, the notebook at the notebook limit (its kernel is
  shut down), and the grader kills its own runner if that hangs past the limit;
* memory and files: the address space is capped (``RLIMIT_AS``), so is the size of any one file
  written (``RLIMIT_FSIZE``), and no core dumps;
* downloads: ``http_proxy``/``https_proxy`` point at a closed local port, so anything that honours
  them (pip, requests, pooch, urllib, the course's own downloads) fails at once as offline.

Where Linux lets the grader create namespaces (``unshare --user``: as root, and as an ordinary user on
most distributions, though not where AppArmor restricts it, as on Ubuntu 23.10 and later, nor in a
Docker container with the default seccomp profile), the notebook also runs in its own user, mount,
network and process namespaces:

* no network at all (no interface but a loopback that is down), raw sockets included;
* the whole file system is read-only except its copy (and a private, empty ``/dev/shm``): it cannot
  write outside its copy, change the course, the grader, the submissions or the CSV;
* every process it starts dies with it.

Without namespaces (some hardened kernels, some CI runners, macOS) those last three do not hold: code
run by a submission has the grader's own user rights, so it *could* write wherever that user can, open
a socket itself, or leave a process that escaped with ``setsid``. Grade as a user that owns nothing of
value there (a throw-away CI job, a container). :func:`namespaces_available` says which case applies.

Neither case stops a submission from lying: the checkers run inside the student's kernel, so code
that forges ``COURSE_CHECKS_FILE`` lines or replaces a checker can claim a pass. Read the notebooks
of results that look too good (``grade --keep DIR`` keeps each executed copy).
"""
from __future__ import annotations

import functools
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["CLOSED_PROXY", "clean_environment", "namespaces_available", "sandboxed", "set_limits"]

CLOSED_PROXY = "http://127.0.0.1:9"  #: a port nothing listens on: connections are refused at once

# Inside the namespaces: the copy becomes a mount of its own, every other mount (/, and /tmp where it is one)
# read-only, /dev/shm a new empty one; then the command runs in the copy.
_ISOLATE = ('mount --bind "$1" "$1" && cd "$1" && mount -o remount,bind,ro / && '
            'while read -r _ point _; do case "$point" in "$1"|/|/proc|/proc/*) ;; '
            '*) mount -o remount,bind,ro "$point" 2>/dev/null;; esac; done < /proc/self/mounts; '
            '{ mount -t tmpfs -o size=64m tmpfs /dev/shm 2>/dev/null || true; } && shift && exec "$@"')
_UNSHARE = ["unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "--kill-child",
            "--mount-proc"]


def clean_environment(copy: Path) -> dict[str, str]:
    """The only environment variables a submission's kernel gets; every folder in them is inside ``copy``."""
    home = copy / ".home"
    folders = {"HOME": home, "TMPDIR": home / "tmp", "JUPYTER_DATA_DIR": home / "jupyter",
               "JUPYTER_CONFIG_DIR": home / "jupyter-config", "JUPYTER_RUNTIME_DIR": home / "jupyter-runtime",
               "IPYTHONDIR": home / "ipython", "MPLCONFIGDIR": home / "matplotlib", "COURSE_DATA_DIR": home / "data",
               "XDG_CACHE_HOME": home / "cache"}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    python_bin = str(Path(sys.executable).parent)
    environment = {name: str(folder) for name, folder in folders.items()}
    environment.update({
        "PATH": os.pathsep.join([python_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
        "COURSE_PROFILE": "quick", "COURSE_DEVICE": "@numpy",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "http_proxy": CLOSED_PROXY, "https_proxy": CLOSED_PROXY, "HTTP_PROXY": CLOSED_PROXY,
        "HTTPS_PROXY": CLOSED_PROXY, "ALL_PROXY": CLOSED_PROXY, "no_proxy": "", "NO_PROXY": "",
        "PIP_NO_INDEX": "1",
    })
    return environment


def set_limits(memory_bytes: int, file_bytes: int) -> None:
    """Cap this process (and what it starts) at ``memory_bytes`` of address space and ``file_bytes`` per file."""
    for limit, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_FSIZE, file_bytes),
                         (resource.RLIMIT_CORE, 0)):
        _, hard = resource.getrlimit(limit)
        resource.setrlimit(limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))


def sandboxed(command: list[str], copy: Path) -> list[str]:
    """``command`` run inside the namespaces where :func:`namespaces_available`, else ``command`` as it is."""
    if not namespaces_available():
        return command
    return [*_UNSHARE, "sh", "-c", _ISOLATE, "sh", str(copy), *command]


@functools.cache
def namespaces_available() -> bool:
    """Whether :func:`sandboxed` can isolate a notebook here: tried once, on a throw-away folder."""
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    with tempfile.TemporaryDirectory(prefix="course-sandbox-") as folder:
        probe, outside = Path(folder) / "copy", Path(folder) / "outside"
        probe.mkdir()
        try:
            done = subprocess.run([*_UNSHARE, "sh", "-c", _ISOLATE, "sh", str(probe), "sh", "-c",
                                   f'touch "{probe}/inside" && ! touch "{outside}" 2>/dev/null'],
                                  capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0 and (probe / "inside").exists() and not outside.exists()
