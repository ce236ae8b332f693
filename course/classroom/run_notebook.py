"""Run one submitted notebook in its own kernel and say how it went: ``python -m course.classroom.run_notebook``.

The grader starts this once per notebook, in the notebook's temporary copy as the working folder,
inside :mod:`course.classroom.sandbox`. It runs every cell with nbclient, going on past cells that
raise (as nbgrader's autograde does), each cell within ``--cell-timeout`` seconds and all of them
within ``--notebook-timeout``; it keeps at most ``--output-limit`` bytes of output, writes the executed
notebook back over the copy, and writes a JSON status (:func:`outcome`) to ``--status``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from course.classroom.sandbox import set_limits


class _Client(NotebookClient):
    """nbclient's client, keeping no more than ``limit`` bytes of output in all and the index of the running cell."""

    def __init__(self, notebook, limit: int, **options) -> None:
        super().__init__(notebook, on_cell_start=self._started, **options)
        self.limit, self.kept, self.cut, self.cell = limit, 0, False, None

    def _started(self, cell, cell_index: int) -> None:
        self.cell = cell_index

    def output(self, outs, msg, display_id, cell_index):
        size = len(json.dumps(msg.get("content", {}), default=str))
        if self.kept + size > self.limit:
            if not self.cut:
                self.cut = True
                outs.append(nbformat.v4.new_output("stream", name="stderr",
                                                   text=f"[output beyond {self.limit} bytes dropped by the grader]\n"))
            return None
        self.kept += size
        return super().output(outs, msg, display_id, cell_index)


def outcome(problem: str | None, errors: list[tuple[int, str]], seconds: float, cut: bool) -> dict:
    """The status the grader reads: ``problem`` (None when every cell ran), cells that raised (1-based), time."""
    return {"problem": problem, "errors": [[cell, name] for cell, name in errors], "seconds": round(seconds, 1),
            "output_cut": cut}


def run(path: Path, cell_timeout: float, notebook_timeout: float, output_limit: int) -> dict:
    """Execute the notebook at ``path`` in place (its folder is the kernel's working folder); return :func:`outcome`."""
    start = time.monotonic()
    try:
        notebook = nbformat.read(path, as_version=4)  # minor schema slips (other editors' metadata) are let through
        if not isinstance(notebook.get("cells"), list):
            raise ValueError("no list of cells")
    except Exception as error:  # not JSON, no nbformat version, not UTF-8: whatever it is, it is not a notebook
        return outcome(f"not a notebook ({type(error).__name__})", [], time.monotonic() - start, False)
    deadline = start + notebook_timeout

    def timeout(cell) -> int:
        return max(1, int(min(cell_timeout, deadline - time.monotonic()) + 0.999))

    runtime = Path.cwd() / ".home" / "jupyter-runtime"
    runtime.mkdir(parents=True, exist_ok=True)
    manager = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(runtime / "kernel"))
    client = _Client(notebook, output_limit, km=manager, timeout_func=timeout, allow_errors=True, startup_timeout=60,
                     shutdown_kernel="immediate", resources={"metadata": {"path": str(path.parent)}})
    problem = None
    try:
        client.execute()
    except CellTimeoutError:
        over = time.monotonic() >= deadline - 1
        problem = (f"notebook time limit ({notebook_timeout:g} s) reached in cell {client.cell + 1}" if over
                   else f"timeout in cell {client.cell + 1}")
    except DeadKernelError:
        problem = "kernel died" + (f" in cell {client.cell + 1}" if client.cell is not None else " at start")
    except RuntimeError as error:  # e.g. the kernel did not start within startup_timeout
        problem = f"kernel failed ({error})"
    errors = [(index + 1, output.get("ename", "error")) for index, cell in enumerate(notebook.cells)
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    try:
        nbformat.write(notebook, path)
    except OSError:  # e.g. the submission filled its copy: the status matters more than the executed copy
        pass
    return outcome(problem, errors, time.monotonic() - start, client.cut)


def main(argv: list[str] | None = None) -> int:
    """Parse the grader's arguments, set the limits, run, write the status; 0 unless the status cannot be written."""
    parser = argparse.ArgumentParser(prog="python -m course.classroom.run_notebook", description=__doc__)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--status", type=Path, required=True)
    parser.add_argument("--cell-timeout", type=float, required=True)
    parser.add_argument("--notebook-timeout", type=float, required=True)
    parser.add_argument("--output-limit", type=int, required=True)
    parser.add_argument("--memory-limit", type=int, required=True, help="bytes of address space")
    parser.add_argument("--file-limit", type=int, required=True, help="bytes in any one file written")
    args = parser.parse_args(argv)
    set_limits(args.memory_limit, args.file_limit)
    status = run(args.notebook, args.cell_timeout, args.notebook_timeout, args.output_limit)
    args.status.write_text(json.dumps(status))
    return 0


if __name__ == "__main__":
    sys.exit(main())
