"""Command line: ``python -m course doctor | train NAME | evaluate NAME | download NAME | morph A B``.

Bad input (a missing file, a folder that cannot be written, an unknown source or size) is reported
as one line starting with ``error:`` and exit status 2, before any long work starts; anything else
is a bug in the course and shows its traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course.device import get_device
from course.doctor import report
from course.errors import DataError, InputError
from course.files import check_writable_folder
from course.profiles import PROFILES
from course.tasks import TASKS, all_tasks, task
from course.tasks.base import override_sizes


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help ends with the tasks, imported only when help is printed."""

    def format_help(self) -> str:
        command = self.prog.rsplit(" ", 1)[-1]
        if command == "morph":  # not a task command
            return super().format_help()
        lines = []
        for t in all_tasks():
            if command == "train":
                folder = f", or a folder with {t.source_folder}" if t.source_folder else ""
                lines.append(f"  {t.name:<8} {t.help}\n{'':11}--source {' | '.join(t.sources)}{folder}")
            elif command == "evaluate":
                lines.append(f"  {t.name:<8} --data: {t.evaluate_data or 'none (train reports ' + t.metric + ')'}")
            elif command == "download":
                lines.append(f"  {t.name:<8} {t.data if t.download else 'nothing to download: ' + t.data}")
            else:
                lines.append(f"  {t.name:<8} {t.help}")
        return super().format_help() + "\ntasks:\n" + "\n".join(lines) + "\n"


def doctor(args: argparse.Namespace) -> int:
    """Print what this installation has, and train a tiny net."""
    return report()


def train(args: argparse.Namespace) -> int:
    """Train a task's model into ``--out`` (resuming from its snapshots), after checking every input."""
    lesson = task(args.name)
    lesson.check_source(args.source)
    sizes = override_sizes(lesson.sizes_for(args.profile), args.size)
    device = get_device(args.device)
    out = check_writable_folder(args.out)
    _, history, _ = lesson.train(out, sizes=sizes, device=device, source=args.source, live_plot=False)
    print(f"{lesson.metric.replace('/main/', ' ')} {history.last(lesson.metric):.4f}")
    for model in sorted(out.glob("*.npz")):  # model.npz; lesson 6: generator, discriminator, vectorizer
        print(f"model written to {model}")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """Score a saved model on test data; print one ``name value`` line per metric."""
    lesson = task(args.name)
    if lesson.evaluate is None:
        raise InputError(f"{args.name} has no separate evaluation; `train` reports {lesson.metric}")
    for what, path in (("--model", args.model), ("--data", args.data)):
        if not Path(path).exists():
            raise DataError(f"{what} {path} does not exist" + (": train first (python -m course train "
                            f"{args.name} --out DIR), then give DIR/model.npz" if what == "--model" else
                            f"; give {lesson.evaluate_data}"))
    scores = lesson.evaluate(args.model, args.data, device=get_device(args.device))
    for name, value in scores.items():
        print(f"{name} {value:.4f}")
    return 0


def download(args: argparse.Namespace) -> int:
    """Download a task's full data set into the cache (needs the internet)."""
    lesson = task(args.name)
    if lesson.download is None:
        raise InputError(f"{args.name} needs no download: its data ships with the installed packages")
    print(f"{args.name} data is in {lesson.download()}")
    return 0


def morph(args: argparse.Namespace) -> int:
    """Lesson 6: morph one image into another with a trained generator and Vectorizer; write the strip."""
    from course.tasks.dcgan import morph_files

    for path in (args.a, args.b):
        if not Path(path).is_file():
            raise DataError(f"{path} does not exist or is not a file: give two image files (PNG, JPEG...)")
    written = morph_files(args.model, args.a, args.b, steps=args.steps, out=args.out, spherical=args.spherical,
                          device=get_device(args.device))
    print(f"{args.steps} images from {args.a} to {args.b} written to {written}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m course", description="The course's lessons from a terminal: check the "
                     "installation, train a lesson's model, score a saved one, download full data.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("doctor", help="print versions, device, profile and data; train a tiny net").set_defaults(
        run=doctor)

    command = commands.add_parser("train", help="train a lesson's model (resumes if --out has snapshots)")
    command.add_argument("name", choices=list(TASKS))
    command.add_argument("--out", required=True, help="folder for model.npz, log.json and snapshots")
    command.add_argument("--profile", choices=PROFILES, help="default: $COURSE_PROFILE, else by device")
    command.add_argument("--device", help="Chainer device, e.g. @numpy or @cupy:0 (default: $COURSE_DEVICE, else auto)")
    command.add_argument("--source", default="auto", help="where the data comes from (default auto; see below)")
    command.add_argument("--size", action="append", default=[], metavar="NAME=VALUE",
                         help="change one of the profile's sizes, e.g. --size epochs=1 (repeatable)")
    command.set_defaults(run=train)

    command = commands.add_parser("evaluate", help="score a saved model on test data (the lesson's metric)")
    command.add_argument("name", choices=list(TASKS))
    command.add_argument("--model", required=True, help="model.npz written by `train`")
    command.add_argument("--data", required=True, help="the test data (see the list below)")
    command.add_argument("--device", help="Chainer device (default: auto)")
    command.set_defaults(run=evaluate)

    command = commands.add_parser("download", help="download a data set into datasets/ (needs the internet)")
    command.add_argument("name", choices=list(TASKS))
    command.set_defaults(run=download)

    command = commands.add_parser("morph", help="lesson 6: morph image A into image B with a trained DCGAN")
    command.add_argument("a", metavar="A", help="the image to start from (any format OpenCV reads)")
    command.add_argument("b", metavar="B", help="the image to end with")
    command.add_argument("--model", required=True,
                         help="the --out folder of `train dcgan` (generator.npz, vectorizer.npz)")
    command.add_argument("--steps", type=int, default=8, help="images in the strip, both ends included (default 8)")
    command.add_argument("--out", required=True, help="the picture to write, e.g. strip.png")
    command.add_argument("--spherical", action="store_true", help="interpolate along a great circle, not a line")
    command.add_argument("--device", help="Chainer device (default: auto)")
    command.set_defaults(run=morph)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 2 on bad input (one line on stderr)."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (InputError, FloatingPointError) as error:  # bad input, or a run that diverged: not a bug
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
