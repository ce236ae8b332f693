"""Training throughput of the course's models, next to the same network in PyTorch.

Usage::

    python benchmarks/throughput.py mnist [--batch-size N] [--repeats R] [--iterations I]
    python benchmarks/throughput.py dcgan [--batch-size N] [--repeats R] [--iterations I] [--profile]
    python benchmarks/throughput.py superres [--batch-size N] [--repeats R] [--iterations I] [--profile]
    python benchmarks/throughput.py colorize [--batch-size N] [--repeats R] [--iterations I]
    python benchmarks/throughput.py bokete [--batch-size N] [--repeats R] [--iterations I]

``bokete`` times lesson 9's caption model (CNN features -> LSTM, masked softmax cross-entropy, Adam) on
captions of real digit scenes, in training tokens per second (padding not counted).
``mnist`` times training steps (forward, backward, Adam update) of lesson 2's CNN
(``course.models.MnistCNN`` in ``chainer.links.Classifier``) on real MNIST-sized batches
(1x28x28 float32). ``dcgan`` times steps of a DCGAN on real digits scaled to [-1, 1]: D's update
on a real and a fake batch, then G's update through D, as ``course.training.GANUpdater`` does (it
runs the updater itself). Its networks have the shape of lesson 6's (:class:`Generator`,
:class:`Discriminator`); where ``course.models.dcgan`` exists, its own networks are timed too.

Both run on the course's device (:func:`course.get_device`), twice: ``course`` with the fast NumPy
kernels that ``import course`` puts beneath Chainer (:mod:`course.kernels`), and ``chainer`` on
Chainer's own code (inside ``course.kernels.disabled()``). When PyTorch is importable they time the
same architecture, batch size and optimizer in PyTorch on the CPU with the same number of threads.
Runs alternate (course, chainer, pytorch, course, ...) after one warm-up run each, so a machine that
gets busier or quieter affects every side alike; each side's figure is the median over
``--repeats`` runs of ``--iterations`` steps.

The last lines are ``ratio course/chainer X.XX`` (what the kernels gain) and ``ratio
course/pytorch X.XX`` (``n/a`` without PyTorch). ``--profile`` (NumPy only) first prints where a
step's time goes, with and without the kernels. This is a measurement, not a test: nothing is
asserted.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import course  # noqa: E402  (before chainer: applies the compatibility shims)
import chainer  # noqa: E402
import chainer.functions as F  # noqa: E402
import chainer.links as L  # noqa: E402
import numpy  # noqa: E402

from course import kernels  # noqa: E402
from course.data import load_mnist  # noqa: E402
from course.models import MnistCNN  # noqa: E402
from course.training import GANUpdater  # noqa: E402

Step = Callable[[], None]
Side = tuple[Step, Step]  # one training step, and a function that waits for the device

Z_SIZE = 32
"""The generator's input size, as in the measured 28x28 DCGAN of /work/shared/NOTES.md."""

DCGAN_BATCH_SIZE = 64
"""The DCGAN's default batch (NOTES.md's measurement); lesson 6's sizes, once they exist, may differ."""


def blas_threads() -> int:
    """How many threads NumPy's BLAS uses (threadpoolctl when installed, else the usual variables)."""
    try:
        from threadpoolctl import threadpool_info

        counts = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
        if counts:
            return max(counts)
    except ImportError:
        pass
    for variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(variable, "").isdigit():
            return int(os.environ[variable])
    return os.cpu_count() or 1


def mnist_batches(batch_size: int, count: int = 4) -> tuple[numpy.ndarray, numpy.ndarray]:
    """``count`` batches of real digits, ``(count, batch_size, 1, 28, 28)`` float32 and int32 labels.

    Cycling through a few different batches keeps the measurement honest without timing data
    loading (the course's converter costs well under 1% of a step; see benchmarks/README.md).
    """
    x, t = load_mnist(verbose=False).train
    need = batch_size * count
    repeat = -(-need // len(x))
    x, t = numpy.concatenate([x] * repeat)[:need], numpy.concatenate([t] * repeat)[:need]
    return x.reshape(count, batch_size, 1, 28, 28), t.reshape(count, batch_size)


def synchronizer(device: chainer.backend.Device) -> Step:
    """A function that waits until ``device`` has finished its queued work (nothing to wait for on NumPy)."""

    def synchronize() -> None:
        if device.xp is not numpy:
            device.device.synchronize()

    return synchronize


def on_kernels(fast_kernels: bool) -> contextlib.AbstractContextManager:
    """The kernels as ``import course`` left them (``fast_kernels``), or Chainer's own code."""
    return contextlib.nullcontext() if fast_kernels else kernels.disabled()


def course_step(x: numpy.ndarray, t: numpy.ndarray, fast_kernels: bool) -> Side:
    """One training step of the course's CNN on its device, and a function that waits for the device.

    ``fast_kernels``: with :mod:`course.kernels` as ``import course`` installs them (unless
    ``COURSE_FAST_KERNELS=0``), or on Chainer's own code.
    """
    device = course.get_device()
    course.set_seed(0)
    model = L.Classifier(MnistCNN())
    model.to_device(device)
    optimizer = chainer.optimizers.Adam(alpha=1e-3)
    optimizer.setup(model)
    xs, ts = device.send(x), device.send(t)
    position = [0]

    def step() -> None:
        i = position[0] = (position[0] + 1) % len(xs)
        with on_kernels(fast_kernels):
            optimizer.update(model, xs[i], ts[i])

    return step, synchronizer(device)


def pytorch_step(x: numpy.ndarray, t: numpy.ndarray, threads: int) -> Step:
    """The same network, loss, accuracy and optimizer in PyTorch (CPU, ``threads`` threads)."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10),
    )
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = nn.CrossEntropyLoss()
    xs, ts = torch.from_numpy(x), torch.from_numpy(t.astype(numpy.int64))
    position = [0]

    def step() -> None:
        i = position[0] = (position[0] + 1) % len(xs)
        optimizer.zero_grad(set_to_none=True)
        scores = model(xs[i])
        loss = loss_function(scores, ts[i])
        loss.backward()
        optimizer.step()
        (scores.argmax(1) == ts[i]).float().mean()  # Chainer's Classifier reports accuracy too

    return step


# ---------------------------------------------------------------- the DCGAN


class Generator(chainer.Chain):
    """z (32) -> Linear -> 64x7x7 -> BN, ReLU -> 4x4 stride-2 deconvolution to 32x14x14 -> BN, ReLU -> to 1x28x28, tanh.

    The shape of lesson 6's generator (BN and ReLU after every layer but the last, each stride-2
    deconvolution halving the channels), sized like the 28x28 DCGAN measured in NOTES.md.
    """

    def __init__(self, z_size: int = Z_SIZE, channels: int = 64):
        super().__init__()
        self.channels = channels
        with self.init_scope():
            self.fc = L.Linear(z_size, channels * 7 * 7)
            self.bn0 = L.BatchNormalization(channels)
            self.up1 = L.Deconvolution2D(channels, channels // 2, ksize=4, stride=2, pad=1)
            self.bn1 = L.BatchNormalization(channels // 2)
            self.up2 = L.Deconvolution2D(channels // 2, 1, ksize=4, stride=2, pad=1)

    def forward(self, z):
        h = F.relu(self.bn0(F.reshape(self.fc(z), (-1, self.channels, 7, 7))))
        h = F.relu(self.bn1(self.up1(h)))
        return F.tanh(self.up2(h))


class Discriminator(chainer.Chain):
    """1x28x28 -> 4x4 stride-2 convolutions to 32x14x14 and 64x7x7 (BN on the second), LeakyReLU 0.2 -> one logit."""

    def __init__(self, channels: int = 64):
        super().__init__()
        with self.init_scope():
            self.down1 = L.Convolution2D(1, channels // 2, ksize=4, stride=2, pad=1)
            self.down2 = L.Convolution2D(channels // 2, channels, ksize=4, stride=2, pad=1)
            self.bn2 = L.BatchNormalization(channels)
            self.fc = L.Linear(channels * 7 * 7, 1)

    def forward(self, x):
        h = F.leaky_relu(self.down1(x), 0.2)
        h = F.leaky_relu(self.bn2(self.down2(h)), 0.2)
        return self.fc(h)


def benchmark_networks() -> dict[str, Callable[[], tuple[chainer.Chain, chainer.Chain]]]:
    """The (generator, discriminator) pairs to time, by the suffix of their sides' names.

    ``""``: this file's :class:`Generator` and :class:`Discriminator`; ``" [lesson 6]"``: lesson 6's
    own (``course.models.dcgan``, with z of 32), where that module exists.
    """
    networks = {"": lambda: (Generator(), Discriminator())}
    try:
        from course.models import dcgan
    except ImportError:
        return networks
    networks[" [lesson 6]"] = lambda: (dcgan.Generator(z_size=Z_SIZE), dcgan.Discriminator())
    return networks


def gan_images(batch_size: int, count: int = 4) -> numpy.ndarray:
    """``count * batch_size`` real digits scaled to [-1, 1] (the range of G's tanh), ``(n, 1, 28, 28)`` float32."""
    x, _ = mnist_batches(batch_size, count)
    return (2 * x - 1).reshape(-1, 1, 28, 28)


def make_z(n: int, xp) -> numpy.ndarray:
    """The generator's inputs: ``n`` vectors drawn uniformly from [-1, 1]^32, float32."""
    return xp.random.uniform(-1, 1, (n, Z_SIZE)).astype(numpy.float32)


def gan_updater(images: numpy.ndarray, batch_size: int, networks: tuple[chainer.Chain, chainer.Chain]) -> GANUpdater:
    """The course's GAN step (:class:`course.training.GANUpdater`) for these networks on the course's device."""
    device = course.get_device()
    generator, discriminator = networks
    optimizers = {}
    for name, network in (("gen", generator), ("dis", discriminator)):
        network.to_device(device)
        optimizers[name] = chainer.optimizers.Adam(alpha=2e-4, beta1=0.5)
        optimizers[name].setup(network)
    iterator = chainer.iterators.SerialIterator(list(images), batch_size, shuffle=False)
    return GANUpdater(iterator, optimizers, seed=0, device=device, make_z=make_z)


def course_gan_step(images: numpy.ndarray, batch_size: int, fast_kernels: bool,
                    make_networks: Callable[[], tuple[chainer.Chain, chainer.Chain]]) -> tuple[Side, GANUpdater]:
    """One DCGAN step (``GANUpdater.update``) with the kernels or on Chainer's own code; also the updater."""
    course.set_seed(0)
    updater = gan_updater(images, batch_size, make_networks())

    def step() -> None:
        with on_kernels(fast_kernels):
            updater.update()

    return (step, synchronizer(updater.device)), updater


def pytorch_gan_step(images: numpy.ndarray, batch_size: int, threads: int) -> Step:
    """The same DCGAN, losses, optimizers and order of updates in PyTorch (CPU, ``threads`` threads)."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    generator = nn.Sequential(
        nn.Linear(Z_SIZE, 64 * 7 * 7), nn.Unflatten(1, (64, 7, 7)), nn.BatchNorm2d(64, eps=2e-5), nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.BatchNorm2d(32, eps=2e-5), nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1), nn.Tanh(),
    )
    discriminator = nn.Sequential(
        nn.Conv2d(1, 32, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64, eps=2e-5), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 1),
    )
    gen_optimizer = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    dis_optimizer = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    softplus = nn.functional.softplus
    batches = torch.from_numpy(images).split(batch_size)
    position = [0]

    def step() -> None:
        i = position[0] = (position[0] + 1) % len(batches)
        fake = generator(torch.rand(len(batches[i]), Z_SIZE) * 2 - 1)
        dis_loss = softplus(-discriminator(batches[i])).mean() + softplus(discriminator(fake.detach())).mean()
        dis_optimizer.zero_grad(set_to_none=True)
        dis_loss.backward()
        dis_optimizer.step()
        gen_loss = softplus(-discriminator(fake)).mean()  # course.losses.non_saturating_generator_loss
        gen_optimizer.zero_grad(set_to_none=True)
        gen_loss.backward()
        gen_optimizer.step()

    return step


PROFILE_GROUPS = {
    "Deconvolution2DFunction": "deconvolution",
    "BatchNormalization": "batch normalisation",
    "Convolution2DFunction": "convolutions",
    "LinearFunction": "linear layers",
    "LeakyReLU": "leaky ReLU",
    "ReLU": "ReLU and tanh", "Tanh": "ReLU and tanh",
    "Depth2Space": "pixel shuffle",
    "MeanSquaredError": "MSE loss",
}
"""Where :class:`StepProfile` files a function node's time, by the node's class (others: ``other functions``)."""


class StepProfile(chainer.FunctionHook):
    """CPU time of each outermost function node, forward and backward, added up by :data:`PROFILE_GROUPS`.

    A node that runs inside another one's forward or backward pass (a gradient's own nodes) counts
    for the outer node, so a layer's time is its forward pass and its whole gradient. CPU time
    (``time.process_time``: this process, all its threads) rather than wall time, so that other
    work on a shared machine does not count; with one BLAS thread the two agree on a quiet machine.
    """

    name = "StepProfile"

    def __init__(self):
        self.seconds: collections.Counter[str] = collections.Counter()
        self._started: list[float] = []

    def forward_preprocess(self, function, in_data):
        self._started.append(time.process_time())

    def backward_preprocess(self, function, in_data, out_grad):
        self._started.append(time.process_time())

    def forward_postprocess(self, function, in_data):
        self._stop(function)

    def backward_postprocess(self, function, in_data, out_grad):
        self._stop(function)

    def _stop(self, function) -> None:
        elapsed = time.process_time() - self._started.pop()
        if not self._started:
            self.seconds[PROFILE_GROUPS.get(type(function).__name__, "other functions")] += elapsed


def profile_gan_step(updater: GANUpdater, fast_kernels: bool, iterations: int) -> dict[str, float]:
    """CPU milliseconds per step of each part of ``updater``'s step: :class:`StepProfile`'s groups, Adam, the rest."""
    adam = [0.0]
    for name in ("gen", "dis"):
        optimizer = updater.get_optimizer(name)

        def timed_update(*args, update=type(optimizer).update.__get__(optimizer), **kwargs):
            start = time.process_time()
            update(*args, **kwargs)
            adam[0] += time.process_time() - start

        optimizer.update = timed_update  # on the instance: GANUpdater's calls find it first
    hook = StepProfile()
    with on_kernels(fast_kernels):
        updater.update()  # warm-up
        hook.seconds.clear()
        adam[0] = 0.0
        start = time.process_time()
        with hook:
            for _ in range(iterations):
                updater.update()
        total = time.process_time() - start
    for name in ("gen", "dis"):
        del updater.get_optimizer(name).update
    parts = dict(hook.seconds, Adam=adam[0])
    parts["the rest (graph, losses, updater)"] = total - sum(parts.values())
    return {name: 1000 * seconds / iterations for name, seconds in parts.items()} | {"total": 1000 * total / iterations}


def print_gan_profile(images: numpy.ndarray, batch_size: int, iterations: int) -> None:
    """Print where one DCGAN step's time goes on NumPy, with the kernels and on Chainer's own code."""
    profiles = {}
    for label, fast in (("course", True), ("chainer", False)):
        _, updater = course_gan_step(images, batch_size, fast, benchmark_networks()[""])
        profiles[label] = profile_gan_step(updater, fast, iterations)
    print(f"where a step's time goes (CPU ms per step, share; {iterations} profiled steps each):")
    names = sorted(profiles["chainer"], key=lambda name: (name == "total", -profiles["chainer"][name]))
    print(f"  {'':36s}" + "".join(f"{label:>18s}" for label in profiles))
    for name in names:
        cells = "".join(f"{p.get(name, 0.0):9.1f} {100 * p.get(name, 0.0) / p['total']:5.1f}%  "
                        for p in profiles.values())
        print(f"  {name:36s}{cells}")


def benchmark_dcgan(batch_size: int, repeats: int, iterations: int, profile: bool = False) -> None:
    """Print DCGAN training steps/second with and without the fast kernels and in PyTorch."""
    device = course.get_device()
    threads = blas_threads()
    print(f"model: DCGAN for 28x28 digits (G: z {Z_SIZE} -> 64x7x7 -> 32x14x14 -> 1x28x28; D: 32, 64 channels), "
          f"Adam(2e-4, beta1 0.5), batch {batch_size}; a step: D on real and fake, then G (GANUpdater)")
    torch = describe_setup(device, threads)
    images = gan_images(batch_size)
    if profile:
        if device.xp is numpy:
            print_gan_profile(images, batch_size, iterations)
        else:
            print("--profile times the NumPy code: skipped on this device")
    sides: dict[str, Side] = {}
    for suffix, make_networks in benchmark_networks().items():
        sides["course" + suffix] = course_gan_step(images, batch_size, True, make_networks)[0]
        sides["chainer" + suffix] = course_gan_step(images, batch_size, False, make_networks)[0]
    if torch is not None:
        sides["pytorch"] = (pytorch_gan_step(images, batch_size, threads), lambda: None)
    run_alternating(sides, repeats, iterations, per_step=1, unit="steps/s")


def describe_setup(device: chainer.backend.Device, threads: int):
    """Print the device, the versions and the sides; return the ``torch`` module, or None where it is not importable."""
    print(f"device: {device} ({course.device.gpu_status()}); BLAS threads: {threads}; "
          f"CPUs: {os.cpu_count()}")
    print(f"course: Chainer with the fast kernels ({'installed' if kernels.installed() else 'NOT installed'}); "
          "chainer: Chainer's own code")
    print(f"Python {platform.python_version()}, NumPy {numpy.__version__}, Chainer {chainer.__version__}")
    try:
        import torch
    except ImportError as error:
        print(f"PyTorch is not importable ({error}): timing Chainer only")
        return None
    print(f"PyTorch {torch.__version__} on the CPU with {threads} thread(s)")
    return torch


def rate(step: Step, iterations: int, per_step: int, synchronize: Step = lambda: None) -> float:
    """Run ``step`` ``iterations`` times; ``per_step`` units (images, steps) per second."""
    synchronize()
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    synchronize()
    return iterations * per_step / (time.perf_counter() - start)


def run_alternating(sides: dict[str, Side], repeats: int, iterations: int, per_step: int, unit: str) -> None:
    """Warm every side up, time them in turn ``repeats`` times, print each run, the medians and the ratios."""
    print(f"{repeats} alternating runs of {iterations} iterations each, after one warm-up run each")
    for step, synchronize in sides.values():  # warm-up: allocations, lazy initialisation, caches
        rate(step, max(2, iterations // 4), per_step, synchronize)
    figures: dict[str, list[float]] = {name: [] for name in sides}
    for run in range(1, repeats + 1):
        line = []
        for name, (step, synchronize) in sides.items():
            figures[name].append(rate(step, iterations, per_step, synchronize))
            line.append(f"{name} {figures[name][-1]:8.4g}")
        print(f"run {run}: " + "   ".join(line) + f"  {unit}")

    medians = {name: statistics.median(values) for name, values in figures.items()}
    for name, value in medians.items():
        print(f"{name} median: {value:.4g} {unit} ({1000 * per_step / value:.1f} ms per step)")
    for name in medians:  # other networks (a suffix after "course") first: the last lines stay the same
        if name.startswith("course "):
            suffix = name[len("course"):]
            print(f"ratio{suffix} course/chainer {medians[name] / medians['chainer' + suffix]:.2f}")
            if "pytorch" in medians:
                print(f"ratio{suffix} course/pytorch {medians[name] / medians['pytorch']:.2f}")
    print(f"ratio course/chainer {medians['course'] / medians['chainer']:.2f}")
    if "pytorch" in medians:
        print(f"ratio chainer/pytorch {medians['chainer'] / medians['pytorch']:.2f}")
        print(f"ratio course/pytorch {medians['course'] / medians['pytorch']:.2f}")
    else:
        print("ratio course/pytorch n/a")


def benchmark_mnist(batch_size: int, repeats: int, iterations: int, profile: bool = False) -> None:
    """Print training images/second for lesson 2's CNN with and without the fast kernels and in PyTorch."""
    if profile:
        print("--profile: for dcgan only (benchmarks/README.md has lesson 2's profile)")
    device = course.get_device()
    threads = blas_threads()
    print(f"model: lesson 2 CNN (course.models.MnistCNN), Adam, batch {batch_size} of 1x28x28 float32")
    torch = describe_setup(device, threads)
    x, t = mnist_batches(batch_size)
    sides: dict[str, Side] = {"course": course_step(x, t, fast_kernels=True),
                              "chainer": course_step(x, t, fast_kernels=False)}
    if torch is not None:
        sides["pytorch"] = (pytorch_step(x, t, threads), lambda: None)
    run_alternating(sides, repeats, iterations, per_step=batch_size, unit="images/s")


# ---------------------------------------------------------------- super-resolution (lesson 7)


def sr_patches(batch_size: int, count: int = 4) -> tuple[numpy.ndarray, numpy.ndarray]:
    """``count`` batches of lesson 7's real training patches (quick): (n, C, 12, 12) and (n, C, 48, 48)."""
    from dataclasses import replace

    from course.tasks import superres

    sizes = replace(superres.QUICK, patches=batch_size * count)
    return superres.training_patches(superres.training_images("auto", sizes, verbose=False), sizes)


def course_sr_step(patches, batch_size: int, fast_kernels: bool) -> tuple[Side, chainer.Chain, chainer.Optimizer]:
    """One pixel-MSE step of lesson 7's quick SRResNet (``PixelLoss``, Adam) on the course's device."""
    from course.tasks import superres
    from course.training.superres import PixelLoss

    device = course.get_device()
    model = PixelLoss(superres.build_generator(superres.QUICK))
    model.to_device(device)
    optimizer = chainer.optimizers.Adam(alpha=1e-3)
    optimizer.setup(model)
    lows, highs = (device.send(a.reshape(-1, batch_size, *a.shape[1:])) for a in patches)
    position = [0]

    def step() -> None:
        i = position[0] = (position[0] + 1) % len(lows)
        with on_kernels(fast_kernels):
            optimizer.update(model, lows[i], highs[i])

    return (step, synchronizer(device)), model, optimizer


def torch_srresnet(channels: int, blocks: int, in_channels: int):
    """Lesson 7's quick generator in PyTorch: the same layers (no BN, ReLU, 3x3), PixelShuffle, the bicubic image."""
    from torch import nn

    class SRResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Conv2d(in_channels, channels, 3, padding=1)
            self.body = nn.ModuleList(nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                                                    nn.Conv2d(channels, channels, 3, padding=1))
                                      for _ in range(blocks))
            self.body_conv = nn.Conv2d(channels, channels, 3, padding=1)
            self.ups = nn.Sequential(*[layer for _ in range(2) for layer in (
                nn.Conv2d(channels, 4 * channels, 3, padding=1), nn.PixelShuffle(2), nn.ReLU())])
            self.tail = nn.Conv2d(channels, in_channels, 3, padding=1)

        def forward(self, x, bicubic):
            h = skip = nn.functional.relu(self.head(x))
            for block in self.body:
                h = h + block(h)
            return self.tail(self.ups(self.body_conv(h) + skip)) + bicubic

    return SRResNet()


def pytorch_sr_step(patches, batch_size: int, threads: int) -> Step:
    """The same step in PyTorch (CPU, ``threads`` threads); the bicubic image from the same NumPy code each step."""
    import torch

    from course.data.resampling import bicubic_upscale
    from course.tasks import superres

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    sizes = superres.QUICK
    model = torch_srresnet(sizes.channels, sizes.blocks, sizes.in_channels)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    lows, highs = (a.reshape(-1, batch_size, *a.shape[1:]) for a in patches)
    position = [0]

    def step() -> None:
        i = position[0] = (position[0] + 1) % len(lows)
        bicubic = torch.from_numpy(bicubic_upscale(lows[i], 4))
        loss = ((model(torch.from_numpy(lows[i]), bicubic) - torch.from_numpy(highs[i])) ** 2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def print_sr_profile(patches, batch_size: int, iterations: int) -> None:
    """Print where one SRResNet training step's time goes on NumPy, with and without the kernels."""
    profiles = {}
    for label, fast in (("course", True), ("chainer", False)):
        (step, _), _, _ = course_sr_step(patches, batch_size, fast)
        step()  # warm-up
        hook = StepProfile()
        start = time.process_time()
        with hook:
            for _ in range(iterations):
                step()
        total = time.process_time() - start
        parts = dict(hook.seconds)
        parts["Adam, the bicubic skip, the rest"] = total - sum(parts.values())
        profiles[label] = {name: 1000 * seconds / iterations for name, seconds in parts.items()}
        profiles[label]["total"] = 1000 * total / iterations
    print(f"where a step's time goes (CPU ms per step, share; {iterations} profiled steps each):")
    names = sorted(set(profiles["chainer"]) | set(profiles["course"]),
                   key=lambda name: (name == "total", -profiles["chainer"].get(name, 0.0)))
    print(f"  {'':36s}" + "".join(f"{label:>18s}" for label in profiles))
    for name in names:
        cells = "".join(f"{p.get(name, 0.0):9.1f} {100 * p.get(name, 0.0) / p['total']:5.1f}%  "
                        for p in profiles.values())
        print(f"  {name:36s}{cells}")


def time_upscaling(repeats: int, threads: int, torch) -> None:
    """Print the median time to enlarge a 256x256 photo x4 (to 1024x1024) with the lesson's quick generator."""
    from course.data.photos import load_photo
    from course.tasks import superres

    image = load_photo("astronaut", 256)
    generator = superres.build_generator(superres.QUICK)
    generator.to_device(course.get_device())
    times = []
    superres.upscale(generator, image)  # warm-up
    for _ in range(repeats):
        start = time.perf_counter()
        superres.upscale(generator, image)
        times.append(time.perf_counter() - start)
    print(f"upscale 256x256 -> 1024x1024 (course.tasks.superres.upscale: tiles of {superres.TILE}, Y by the network, "
          f"colour bicubic): median {statistics.median(times):.3f} s over {repeats}")
    if torch is not None:
        from course.data.superres import model_values
        from course.data.resampling import bicubic_upscale

        model = torch_srresnet(superres.QUICK.channels, superres.QUICK.blocks, 1).eval()
        x = model_values(image[None], 1)
        torch_times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            with torch.no_grad():
                model(torch.from_numpy(x), torch.from_numpy(bicubic_upscale(x, 4)))
            torch_times.append(time.perf_counter() - start)
        print(f"the same network in PyTorch on the whole Y channel at once: median "
              f"{statistics.median(torch_times[1:]):.3f} s")


def benchmark_superres(batch_size: int, repeats: int, iterations: int, profile: bool = False) -> None:
    """Print lesson 7's generator training patches/second with and without the fast kernels and in PyTorch."""
    from course.tasks import superres

    device = course.get_device()
    threads = blas_threads()
    sizes = superres.QUICK
    print(f"model: lesson 7's quick SRResNet ({sizes.channels} channels, {sizes.blocks} blocks, x4, Y, no BN, "
          f"bicubic skip), pixel MSE, Adam, batch {batch_size} of 12x12 -> 48x48 patches")
    torch = describe_setup(device, threads)
    patches = sr_patches(batch_size)
    if profile:
        if device.xp is numpy:
            print_sr_profile(patches, batch_size, iterations)
        else:
            print("--profile times the NumPy code: skipped on this device")
    sides: dict[str, Side] = {"course": course_sr_step(patches, batch_size, True)[0],
                              "chainer": course_sr_step(patches, batch_size, False)[0]}
    if torch is not None:
        sides["pytorch"] = (pytorch_sr_step(patches, batch_size, threads), lambda: None)
    time_upscaling(repeats, threads, torch)
    run_alternating(sides, repeats, iterations, per_step=batch_size, unit="patches/s")


def colour_crops(batch_size: int, count: int = 4) -> tuple[numpy.ndarray, numpy.ndarray]:
    """``count`` batches of lesson 8's quick training crops (line art, colour) from the shipped photos."""
    from course.tasks import colorize

    sizes = colorize.QUICK
    images = colorize.training_images("auto", sizes, verbose=False)
    return colorize.random_crops(images, batch_size * count, sizes.crop)


def course_unet_step(crops: tuple[numpy.ndarray, numpy.ndarray], batch_size: int, fast_kernels: bool) -> Side:
    """One training step of lesson 8's quick U-Net (L1, Adam 1e-3) as ``train_colorizer`` takes it."""
    from course.tasks import colorize
    from course.training.colorization import ColourLoss

    device = course.get_device()
    model = ColourLoss(colorize.build_unet(colorize.QUICK))
    model.to_device(device)
    optimizer = chainer.optimizers.Adam(alpha=1e-3)
    optimizer.setup(model)
    lines, colours = (device.send(a) for a in crops)
    position = [0]

    def step() -> None:
        i = position[0] % (len(lines) // batch_size) * batch_size
        position[0] += 1
        with on_kernels(fast_kernels):
            optimizer.update(model, lines[i:i + batch_size], colours[i:i + batch_size])

    return step, synchronizer(device)


def pytorch_unet_step(crops: tuple[numpy.ndarray, numpy.ndarray], batch_size: int, threads: int) -> Step:
    """The same U-Net (layers, widths, skips, sigmoid), L1 and Adam 1e-3, in PyTorch on the CPU."""
    import torch
    from torch import nn

    from course.tasks import colorize

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    base, levels = colorize.QUICK.base, colorize.LEVELS
    widths = [base * 2 ** i for i in range(levels + 1)]

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = nn.Conv2d(1, base, 3, padding=1)
            self.downs = nn.ModuleList(nn.Sequential(nn.Conv2d(a, b, 4, 2, 1), nn.BatchNorm2d(b), nn.ReLU())
                                       for a, b in zip(widths, widths[1:]))
            ups = widths[::-1]
            ins = [ups[0]] + [2 * w for w in ups[1:-1]]
            self.ups = nn.ModuleList(nn.Sequential(nn.ConvTranspose2d(a, b, 4, 2, 1), nn.BatchNorm2d(b), nn.ReLU())
                                     for a, b in zip(ins, ups[1:]))
            self.last = nn.Conv2d(2 * base + 1, 3, 3, padding=1)

        def forward(self, x):
            skips = [torch.relu(self.first(x))]
            for down in self.downs:
                skips.append(down(skips[-1]))
            h = skips.pop()
            for up in self.ups:
                h = torch.cat([up(h), skips.pop()], 1)
            return torch.sigmoid(self.last(torch.cat([h, x], 1)))

    model = UNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    lines, colours = (torch.from_numpy(a) for a in crops)
    position = [0]

    def step() -> None:
        i = position[0] % (len(lines) // batch_size) * batch_size
        position[0] += 1
        optimizer.zero_grad()
        loss = (model(lines[i:i + batch_size]) - colours[i:i + batch_size]).abs().mean()
        loss.backward()
        optimizer.step()

    return step


def benchmark_colorize(batch_size: int, repeats: int, iterations: int, profile: bool = False) -> None:
    """Print lesson 8's U-Net training images/second with and without the fast kernels and in PyTorch."""
    from course.tasks import colorize

    device = course.get_device()
    threads = blas_threads()
    sizes = colorize.QUICK
    print(f"model: lesson 8's quick U-Net (base {sizes.base}, {colorize.LEVELS} levels, skips), L1, Adam 1e-3, "
          f"batch {batch_size} of {sizes.crop}x{sizes.crop} line-art crops")
    torch = describe_setup(device, threads)
    if profile:
        print("--profile is for dcgan and superres: skipped")
    crops = colour_crops(batch_size)
    sides: dict[str, Side] = {"course": course_unet_step(crops, batch_size, True),
                              "chainer": course_unet_step(crops, batch_size, False)}
    if torch is not None:
        sides["pytorch"] = (pytorch_unet_step(crops, batch_size, threads), lambda: None)
    run_alternating(sides, repeats, iterations, per_step=batch_size, unit="images/s")


# ---------------------------------------------------------------- captions (lesson 9)

def caption_batches(batch_size: int, count: int = 4) -> tuple[numpy.ndarray, numpy.ndarray, int]:
    """``count`` batches of lesson 9's scene captions as (features, targets) and the vocabulary's size.

    The features are an untrained MnistCNN's ``fc3`` on the cells of real digit scenes: the same shape
    and scale as the lesson's, without training a CNN first (the timing does not depend on them).
    """
    from course.data.captions import Vocabulary, encode_batch, make_scenes, tokenize
    from course.models.captioning import cell_features
    from course.tasks.bokete import MAX_TOKENS

    digits = load_mnist(verbose=False)
    scenes = make_scenes(*digits.train, batch_size * count, seed=0)
    tokens = [tokenize(caption) for caption in scenes.captions]
    vocabulary = Vocabulary.build(tokens)
    course.set_seed(0)
    features = cell_features(MnistCNN(), scenes.images)
    return features, encode_batch(tokens, vocabulary, MAX_TOKENS), len(vocabulary)


def course_caption_step(batches, batch_size: int, embed: int, hidden: int, fast_kernels: bool) -> Side:
    """One training step of :class:`course.models.captioning.Captioner` (its masked loss, Adam) on the course's device."""
    from course.models.captioning import Captioner

    features, targets, vocabulary_size = batches
    device = course.get_device()
    course.set_seed(0)
    model = Captioner(features.shape[1], vocabulary_size, embed, hidden)
    model.to_device(device)
    optimizer = chainer.optimizers.Adam(alpha=1e-3)
    optimizer.setup(model)
    xs, ts = device.send(features), device.send(targets)
    position = [0]

    def step() -> None:
        i = position[0] % (len(ts) // batch_size) * batch_size
        position[0] += 1
        with on_kernels(fast_kernels):
            model.cleargrads()
            model.loss(xs[i:i + batch_size], ts[i:i + batch_size]).backward()
            optimizer.update()

    return step, synchronizer(device)


def pytorch_caption_step(batches, batch_size: int, embed: int, hidden: int, threads: int) -> Step:
    """The same model in PyTorch (image added to the <bos> embedding at t=0, nn.LSTM, masked cross-entropy), CPU."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    features, targets, vocabulary_size = batches

    class Captioner(nn.Module):
        def __init__(self):
            super().__init__()
            self.project = nn.Linear(features.shape[1], embed)
            self.embed = nn.Embedding(vocabulary_size, embed)
            self.lstm = nn.LSTM(embed, hidden, batch_first=True)
            self.out = nn.Linear(hidden, vocabulary_size)

        def forward(self, x, t):
            previous = torch.cat([torch.ones_like(t[:, :1]), t[:, :-1]], 1).clamp(min=0)  # <bos> is 1
            words = self.embed(previous)
            words = torch.cat([words[:, :1] + self.project(x)[:, None], words[:, 1:]], 1)
            h, _ = self.lstm(words)
            return self.out(h)

    model = Captioner()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs, ts = torch.from_numpy(features), torch.from_numpy(targets.astype(numpy.int64))
    position = [0]

    def step() -> None:
        i = position[0] % (len(ts) // batch_size) * batch_size
        position[0] += 1
        optimizer.zero_grad()
        scores = model(xs[i:i + batch_size], ts[i:i + batch_size])
        loss = nn.functional.cross_entropy(scores.reshape(-1, vocabulary_size), ts[i:i + batch_size].reshape(-1),
                                           ignore_index=-1)
        loss.backward()
        optimizer.step()

    return step


def benchmark_bokete(batch_size: int, repeats: int, iterations: int, profile: bool = False) -> None:
    """Print lesson 9's caption model's training tokens/second (the quick profile's sizes) and PyTorch's."""
    from course.tasks import bokete

    device = course.get_device()
    threads = blas_threads()
    sizes = bokete.QUICK
    batches = caption_batches(batch_size)
    tokens_per_step = int((batches[1] != -1).sum()) // (len(batches[1]) // batch_size)
    print(f"model: lesson 9's quick caption model (embed {sizes.embed}, LSTM {sizes.hidden}, "
          f"{batches[0].shape[1]} features, {batches[2]} tokens), masked softmax cross-entropy, Adam 1e-3, "
          f"batch {batch_size} captions, about {tokens_per_step} tokens a step")
    torch = describe_setup(device, threads)
    if profile:
        print("--profile is for dcgan and superres: skipped")
    sides: dict[str, Side] = {name: course_caption_step(batches, batch_size, sizes.embed, sizes.hidden, fast)
                              for name, fast in (("course", True), ("chainer", False))}
    if torch is not None:
        sides["pytorch"] = (pytorch_caption_step(batches, batch_size, sizes.embed, sizes.hidden, threads), lambda: None)
    run_alternating(sides, repeats, iterations, per_step=tokens_per_step, unit="tokens/s")


BENCHMARKS = {"mnist": benchmark_mnist, "dcgan": benchmark_dcgan, "superres": benchmark_superres,
              "colorize": benchmark_colorize, "bokete": benchmark_bokete}


def default_batch_size(benchmark: str) -> int:
    """The active profile's batch size for the lesson (mnist, superres), or :data:`DCGAN_BATCH_SIZE`."""
    if benchmark == "superres":
        from course.tasks.superres import BATCH_SIZE

        return BATCH_SIZE
    if benchmark == "colorize":
        from course.tasks.colorize import BATCH_SIZE

        return BATCH_SIZE
    if benchmark == "bokete":
        from course.tasks.bokete import BATCH_SIZE

        return BATCH_SIZE
    return course.sizes("mnist").batch_size if benchmark == "mnist" else DCGAN_BATCH_SIZE


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run one benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("benchmark", choices=sorted(BENCHMARKS), help="what to time")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="images per step (default: the lesson's batch size)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per side (default 5)")
    parser.add_argument("--iterations", type=int, default=20, help="training steps per run (default 20)")
    parser.add_argument("--profile", action="store_true",
                        help="dcgan on NumPy: first print where a step's time goes, with and without the kernels")
    args = parser.parse_args(argv)
    batch_size = args.batch_size or default_batch_size(args.benchmark)
    if batch_size < 1 or args.repeats < 1 or args.iterations < 1:
        parser.error("--batch-size, --repeats and --iterations must be positive")
    BENCHMARKS[args.benchmark](batch_size, args.repeats, args.iterations, args.profile)


if __name__ == "__main__":
    main()
