"""Command line: ``python -m course doctor | train NAME | evaluate NAME | download NAME | morph A B | caption IMAGE... | upscale IN OUT``.

Bad input (a missing file, a folder that cannot be written, an unknown source or size) is reported
as one line starting with ``error:`` and exit status 2, before any long work starts; anything else
is a bug in the course and shows its traceback.
"""
from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

from course.device import get_device
from course.doctor import report
from course.errors import DataError, InputError
from course.files import check_writable_folder
from course.profiles import PROFILES
from course.tasks import TASKS, all_tasks, task
from course.tasks.base import override_sizes
from course.training import distributed


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help ends with the tasks, imported only when help is printed."""

    def format_help(self) -> str:
        command = self.prog.rsplit(" ", 1)[-1]
        if command in ("morph", "caption", "serve", "upscale", "colorize", "release", "grade", "validate"):  # not task commands
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
    parallel = args.processes is not None or distributed.launched_by_mpi()
    if parallel and "communicator" not in inspect.signature(lesson.train).parameters:
        names = [t.name for t in all_tasks() if "communicator" in inspect.signature(t.train).parameters]
        raise InputError(f"{args.name} does not train data parallel; these do: {', '.join(names)}")
    if args.processes is not None:
        return _train_in_processes(args)
    device = get_device(args.device)
    out = check_writable_folder(args.out)
    options = {"sizes": sizes, "device": device, "source": args.source, "live_plot": False}
    if parallel:  # one of the processes mpiexec started
        communicator = distributed.create_communicator(device=device)
        options.update(communicator=communicator, device=distributed.device_for_process(device, communicator))
    _, history, _ = lesson.train(out, **options)
    if distributed.launcher_rank() != 0:
        return 0
    print(f"{lesson.metric.replace('/main/', ' ')} {history.last(lesson.metric):.4f}")
    for model in sorted(out.glob("*.npz")):  # model.npz; lesson 6: generator, discriminator, vectorizer
        print(f"model written to {model}")
    return 0


def _train_in_processes(args: argparse.Namespace) -> int:
    """``train`` again under ``mpiexec -n args.processes``: the same arguments but ``--processes``."""
    if distributed.launched_by_mpi():
        raise InputError("--processes starts mpiexec itself: give it, or run under mpiexec, not both")
    check_writable_folder(args.out)
    arguments = ["-m", "course", "train", args.name, "--out", args.out, "--source", args.source]
    for option, value in (("--profile", args.profile), ("--device", args.device)):
        if value is not None:
            arguments += [option, value]
    for assignment in args.size:
        arguments += ["--size", assignment]
    status = distributed.launch(arguments, args.processes).returncode
    if status in (0, 2):  # done, or bad input that the processes reported
        return status
    raise InputError(f"the {args.processes} processes stopped with exit status {status}: one of them failed or "
                     f"was killed (see above). The newest snapshot in {args.out} is kept: run the same command "
                     f"to resume")


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
        print(f"{name} {value:+.2f}" if name.endswith("gain_db") else f"{name} {value:.4f}")  # a gain has a sign
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


def caption(args: argparse.Namespace) -> int:
    """Lesson 9: caption image files (rows of up to three digits) with a trained caption model."""
    from course.tasks.bokete import caption_files

    for path in args.images:
        if not Path(path).is_file():
            raise DataError(f"{path} does not exist or is not a file: give image files (PNG, JPEG...)")
    for path, text in zip(args.images, caption_files(args.model, args.images, device=get_device(args.device))):
        print(f"{path}: {text}")
    return 0


def serve(args: argparse.Namespace) -> int:
    """Lesson 9: serve the seed's web app (statistics, Generate, upload) for a trained caption model on 127.0.0.1."""
    from course.webapp import serve as serve_app

    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port} is not a port: give a number from 1 to 65535 (e.g. 8009)")
    serve_app(args.model, port=args.port, source=args.source, device=get_device(args.device))
    return 0


def upscale(args: argparse.Namespace) -> int:
    """Lesson 7: enlarge one image x4 with a trained super-resolution generator; write the result."""
    from course.tasks.superres import upscale_file

    if not Path(args.input).is_file():
        raise DataError(f"{args.input} does not exist or is not a file: give an image file (PNG, JPEG...)")
    written, (width, height) = upscale_file(args.model, args.input, args.output, device=get_device(args.device))
    print(f"{args.input} enlarged to {width}x{height} and written to {written}")
    return 0


def colorize(args: argparse.Namespace) -> int:
    """Lesson 8: colour one line-art image (or a colour image's line art) with a trained colouriser; write it."""
    from course.tasks.colorize import colorize_file

    for what, path in (("the line art", args.input), ("--hints", args.hints)):
        if path is not None and not Path(path).is_file():
            raise DataError(f"{what} {path} does not exist or is not a file: give an image file (PNG, JPEG...)")
    written = colorize_file(args.model, args.input, args.output, hints_path=args.hints, from_colour=args.from_colour,
                            device=get_device(args.device))
    print(f"{args.input} coloured and written to {written}")
    return 0


def release(args: argparse.Namespace) -> int:
    """Write the student copy of the lessons (no outputs, no solutions, a README) into ``--out``."""
    from course.classroom import release as write_release

    written = write_release(args.out, args.notebooks)
    print(f"{len(written)} files written to {args.out} (the notebooks, their pages, README.md)")
    return 0


def grade(args: argparse.Namespace) -> int:
    """Run every student's notebooks, write one CSV row per student, print a summary."""
    from course.classroom import Limits, grade as grade_class
    from course.classroom.grade import isolation_note

    limits = Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout,
                    memory_limit=int(args.memory * 2**30))
    book = grade_class(args.submissions, args.out, assignment=args.assignment, notebooks=args.notebook or None,
                       limits=limits, jobs=args.jobs, keep=args.keep)
    print(book.summary())
    print(isolation_note())
    print(f"grades written to {args.out}")
    return 0


def validate(args: argparse.Namespace) -> int:
    """Run notebooks as CI does (nbval, quick profile); 0 if every one passed, else 1."""
    from course.classroom import validate as run_nbval

    results = run_nbval(args.notebooks, cell_timeout=args.cell_timeout)
    print(f"{sum(r.ok for r in results)} of {len(results)} notebooks passed")
    return 0 if all(r.ok for r in results) else 1


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
    command.add_argument("--processes", type=int, metavar="N",
                         help="train data parallel in N processes (starts mpiexec -n N; batch_size is per process)")
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

    command = commands.add_parser("caption", help="lesson 9: caption images with a trained CNN + LSTM")
    command.add_argument("images", metavar="IMAGE", nargs="+", help="images of up to three digits side by side")
    command.add_argument("--model", required=True,
                         help="the --out folder of `train bokete` (model.npz, cnn.npz, vocabulary.json)")
    command.add_argument("--device", help="Chainer device (default: auto)")
    command.set_defaults(run=caption)

    command = commands.add_parser("serve", help="lesson 9: the seed's web app for a trained caption model")
    command.add_argument("name", choices=["bokete"], help="the app to serve (bokete)")
    command.add_argument("--model", required=True, help="the --out folder of `train bokete`")
    command.add_argument("--port", type=int, default=8009, help="the port on 127.0.0.1 (default 8009)")
    command.add_argument("--source", default="auto", help="the digits the scenes were made of (default auto)")
    command.add_argument("--device", help="Chainer device (default: auto)")
    command.set_defaults(run=serve)

    command = commands.add_parser("upscale", help="lesson 7: enlarge an image x4 with a trained super-resolution model")
    command.add_argument("input", metavar="IN", help="the image to enlarge (any size; large ones go in tiles)")
    command.add_argument("output", metavar="OUT", help="the picture to write, e.g. big.png")
    command.add_argument("--model", required=True, help="model.npz (or generator.npz) written by `train superres`")
    command.add_argument("--device", help="Chainer device (default: auto)")
    command.set_defaults(run=upscale)

    command = commands.add_parser("colorize", help="lesson 8: colour line art with a trained colouriser")
    command.add_argument("input", metavar="LINEART", help="the line art, dark lines on white (any format OpenCV reads)")
    command.add_argument("output", metavar="OUT", help="the picture to write, e.g. coloured.png")
    command.add_argument("--model", required=True, help="model.npz (or generator.npz) written by `train colorize`")
    command.add_argument("--hints", help="an RGBA PNG of the line art's size, opaque where a colour hint is")
    command.add_argument("--from-colour", action="store_true", help="LINEART is a colour image: make its line art first")
    command.add_argument("--device", help="Chainer device (default: auto)")
    command.set_defaults(run=colorize)

    command = commands.add_parser("release", help="write the student copy: lessons without outputs or solutions")
    command.add_argument("--out", required=True, help="a new or empty folder for the student copy")
    command.add_argument("--notebooks", help="the lessons to release (default: the course's notebooks/)")
    command.set_defaults(run=release)

    command = commands.add_parser("grade", help="run a class's notebooks; one CSV row per student")
    command.add_argument("submissions", metavar="SUBMISSIONS", help="a folder with one folder of notebooks per student")
    command.add_argument("--out", required=True, help="the CSV to write, e.g. grades.csv")
    command.add_argument("--assignment", default=str(Path(__file__).resolve().parents[1] / "notebooks"),
                         help="the notebooks handed out, which say the exercises (default: the course's notebooks/)")
    command.add_argument("--notebook", action="append", default=[], metavar="NAME",
                         help="grade only this notebook, e.g. 01_first_neural_net.ipynb (repeatable; default: "
                              "every assignment notebook with exercises)")
    command.add_argument("--cell-timeout", type=float, default=300, help="seconds per cell (default 300)")
    command.add_argument("--notebook-timeout", type=float, default=1200, help="seconds per notebook (default 1200)")
    command.add_argument("--memory", type=float, default=8, help="GiB of memory per notebook (default 8)")
    command.add_argument("--jobs", type=int, help="notebooks run at a time (default: one per CPU core)")
    command.add_argument("--keep", help="a folder to keep each executed notebook in, as KEEP/student/name.ipynb")
    command.set_defaults(run=grade)

    command = commands.add_parser("validate", help="run notebooks as CI does (nbval, quick profile), one report each")
    command.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    command.add_argument("--cell-timeout", type=float, default=300, help="seconds per cell (default 300)")
    command.set_defaults(run=validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 2 on bad input (one line on stderr)."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (InputError, FloatingPointError) as error:  # bad input, or a run that diverged: not a bug
        if distributed.launcher_rank() == 0:  # under mpiexec every process meets the same error; one says it
            print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
