"""A small deterministic GAN run, for the kill-and-resume test: python tests/gan_job.py OUT."""
import sys

import course  # first: the shims Chainer needs on today's NumPy
import chainer.functions as F  # noqa: E402
import chainer.links as L  # noqa: E402
import numpy  # noqa: E402

from course.training import train_gan, uniform_z  # noqa: E402


class Generator(course.chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.fc1 = L.Linear(4, 16)
            self.bn = L.BatchNormalization(16)
            self.fc2 = L.Linear(16, 2)

    def forward(self, z):
        return self.fc2(F.relu(self.bn(self.fc1(z))))


class Discriminator(course.chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.fc1 = L.Linear(2, 16)
            self.fc2 = L.Linear(16, 1)

    def forward(self, x):
        return self.fc2(F.leaky_relu(self.fc1(x), 0.2))


def points(n: int = 512) -> numpy.ndarray:
    """Real data: a Gaussian blob centred at (2, -1)."""
    return (numpy.random.RandomState(0).standard_normal((n, 2)) * 0.3 + [2.0, -1.0]).astype(numpy.float32)


def run(out, *, epochs: int = 6, snapshot_every: int = 5, progress: bool = False, **options):
    course.set_seed(3)
    generator, discriminator = Generator(), Discriminator()
    history = train_gan(generator, discriminator, points(), epochs=epochs, make_z=uniform_z(4), batch_size=32,
                        lr=5e-3, sample_every=16, samples=4, out=out, seed=3, device="@numpy",
                        snapshot_every=snapshot_every, progress=progress, live_plot=False,
                        to_image=lambda y: (y.reshape(-1, 1, 1, 2) + 3) / 6, **options)  # points as 1x2 "images"
    return generator, discriminator, history


if __name__ == "__main__":
    run(sys.argv[1])
