"""Images with captions: real loaders (the seed's table, COCO's JSON, Flickr8k's token file), tokens, a vocabulary,
and lesson 9's offline scenes of real MNIST digits captioned with what is where.

Every loader returns a :class:`CaptionPairs`: one ``(image path, text)`` per caption, so an image with
five captions appears five times. :func:`tokenize` splits text into words, or into characters for text
written without spaces (Japanese, as on bokete); :class:`Vocabulary` turns tokens into ids.

Offline, :func:`make_scenes` puts one to three real digits into the cells of a canvas one digit high and
:data:`CELLS` digits wide, and captions each scene with what is where ("a 3 left of a 7"); the
"many answers" variant (:func:`many_answers`) gives every scene the same K jokes instead, the seed's
situation where the image does not tell which answer comes.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy

from course.errors import DataError

PAD = -1
"""The id of padding in a batch of token ids: ignored by the loss."""
UNK, BOS, EOS = "<unk>", "<bos>", "<eos>"
SPECIALS = (UNK, BOS, EOS)
"""Tokens every vocabulary has, with ids 0, 1 and 2."""
CELLS = 3
"""A scene's canvas is one digit (28 px) high and this many digits wide: left, middle, right."""
DIGIT = 28
PLACES = ("on the left", "in the middle", "on the right")
JOKES = (
    "it is shy", "nobody came", "my homework", "the cat did it", "it was like that", "ask my lawyer",
    "who ordered this", "a tax return", "no comment", "that is art", "call me later", "not again",
    "the sequel", "so close", "monday again", "i can explain",
)
"""The "many answers" jokes (each says nothing about the digits: the seed's boke captions)."""
TABLE_COLUMNS = ("image", "text")


@dataclass(frozen=True)
class CaptionPairs:
    """One ``(image, text)`` per caption, image paths resolved; ``source`` says where they came from."""

    images: tuple[Path, ...]
    texts: tuple[str, ...]
    source: str

    def __len__(self) -> int:
        return len(self.texts)


def _pairs(pairs: Iterable[tuple[Path, str]], source: str, where: Path) -> CaptionPairs:
    pairs = list(pairs)
    if not pairs:
        raise DataError(f"{where} holds no captions: give at least one (image, text) pair")
    missing = sorted({str(image) for image, _ in pairs if not image.is_file()})
    if missing:
        raise DataError(f"{where} names {len(missing)} image(s) that are not there, e.g. {missing[0]}: "
                        "copy them next to it or fix the names")
    return CaptionPairs(tuple(image for image, _ in pairs), tuple(text for _, text in pairs), source)


def _check_file(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} is not a file: give the {what}")
    return path


def read_caption_table(table: str | Path, image_dir: str | Path | None = None) -> CaptionPairs:
    """The seed's shape: a CSV (or, ending in ``.tsv``, tab-separated) table with columns ``image`` and ``text``.

    Image names are relative to ``image_dir`` (default: the table's folder).
    """
    table = _check_file(table, "a table of image,text rows")
    folder = Path(image_dir) if image_dir is not None else table.parent
    with open(table, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter="\t" if table.suffix == ".tsv" else ",")
        if reader.fieldnames is None or not set(TABLE_COLUMNS) <= set(reader.fieldnames):
            raise DataError(f"{table} needs a header with the columns {', '.join(TABLE_COLUMNS)}, "
                            f"not {reader.fieldnames}")
        rows = list(reader)
    for number, row in enumerate(rows, start=2):
        if not (row["image"] or "").strip() or not (row["text"] or "").strip():
            raise DataError(f"{table} line {number}: an empty image or text; every row needs both")
    return _pairs(((folder / row["image"].strip(), row["text"].strip()) for row in rows), f"table {table}", table)


def read_coco_captions(annotations: str | Path, image_dir: str | Path) -> CaptionPairs:
    """COCO's captions JSON: ``images`` (``id``, ``file_name``) and ``annotations`` (``image_id``, ``caption``)."""
    annotations = _check_file(annotations, "a COCO captions file (e.g. captions_train2017.json)")
    try:
        data = json.loads(annotations.read_text(encoding="utf-8"))
        names = {image["id"]: image["file_name"] for image in data["images"]}
        rows = [(entry["image_id"], entry["caption"]) for entry in data["annotations"]]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise DataError(f"{annotations} is not a COCO captions file ({error!r}): it needs 'images' with id and "
                        "file_name and 'annotations' with image_id and caption") from None
    unknown = [image_id for image_id, _ in rows if image_id not in names]
    if unknown:
        raise DataError(f"{annotations}: captions of image id {unknown[0]}, which 'images' does not list")
    return _pairs(((Path(image_dir) / names[i], text.strip()) for i, text in rows), f"COCO {annotations}",
                  annotations)


def read_flickr8k_tokens(token_file: str | Path, image_dir: str | Path) -> CaptionPairs:
    """Flickr8k's ``Flickr8k.token.txt``: lines ``NAME.jpg#N<TAB>caption``."""
    token_file = _check_file(token_file, "Flickr8k's token file (Flickr8k.token.txt)")
    rows = []
    for number, line in enumerate(token_file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        name, tab, text = line.partition("\t")
        if not tab or "#" not in name or not text.strip():
            raise DataError(f"{token_file} line {number} is not 'NAME.jpg#N<TAB>caption': {line[:60]!r}")
        rows.append((Path(image_dir) / name.rsplit("#", 1)[0], text.strip()))
    return _pairs(rows, f"Flickr8k {token_file}", token_file)


# --- tokens and the vocabulary ---------------------------------------------------------------------

def word_level(texts: Sequence[str]) -> bool:
    """Whether to split ``texts`` into words: yes when most of them contain spaces (English), no for Japanese."""
    texts = [text.strip() for text in texts]
    return sum(" " in text for text in texts) * 2 >= len(texts)


def tokenize(text: str, *, words: bool = True) -> list[str]:
    """``text`` as tokens: lowercase words split at white space, or (``words=False``) its characters, no spaces."""
    return text.lower().split() if words else [c for c in text if not c.isspace()]


def tokenize_texts(texts: Sequence[str]) -> list[list[str]]:
    """Every text as tokens, one choice for all (:func:`word_level`): words for English, characters for Japanese."""
    words = word_level(texts)
    return [tokenize(text, words=words) for text in texts]


class Vocabulary:
    """Token <-> id for tokens seen ``min_count`` times or more; :data:`SPECIALS` first, unknown tokens -> ``<unk>``."""

    def __init__(self, tokens: Sequence[str]):
        self.tokens = list(SPECIALS) + [t for t in tokens if t not in SPECIALS]
        self.ids = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], min_count: int = 1) -> "Vocabulary":
        """The tokens of ``token_lists`` seen ``min_count`` times or more, most frequent first (ties alphabetical)."""
        if min_count < 1:
            raise ValueError(f"min_count must be at least 1, not {min_count}")
        counts = Counter(token for tokens in token_lists for token in tokens)
        return cls([t for t, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if n >= min_count])

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def bos(self) -> int:
        return self.ids[BOS]

    @property
    def eos(self) -> int:
        return self.ids[EOS]

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of ``tokens`` (``<unk>`` for the unknown), without ``<bos>`` or ``<eos>``."""
        return [self.ids.get(token, self.ids[UNK]) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids`` up to the first ``<eos>``; ``<bos>`` and padding left out."""
        tokens = []
        for i in ids:
            i = int(i)
            if i == self.eos:
                break
            if i >= 0 and i != self.bos:
                tokens.append(self.tokens[i])
        return tokens

    def to_json(self) -> str:
        """The tokens in id order, as JSON (read back with :meth:`from_json`)."""
        return json.dumps(self.tokens, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Vocabulary":
        tokens = json.loads(text)
        if not isinstance(tokens, list) or tokens[:len(SPECIALS)] != list(SPECIALS):
            raise DataError(f"not a saved vocabulary: it must be a JSON list starting with {list(SPECIALS)}")
        return cls(tokens[len(SPECIALS):])


def encode_batch(token_lists: Sequence[Sequence[str]], vocabulary: Vocabulary, max_length: int) -> numpy.ndarray:
    """Targets for teacher forcing: each row its tokens' ids, ``<eos>``, then :data:`PAD` (N, max_length + 1).

    Captions longer than ``max_length`` tokens are cut there (``<eos>`` still follows).
    """
    rows = numpy.full((len(token_lists), max_length + 1), PAD, numpy.int32)
    for row, tokens in zip(rows, token_lists):
        ids = vocabulary.encode(tokens)[:max_length] + [vocabulary.eos]
        row[:len(ids)] = ids
    return rows


# --- lesson 9's offline scenes ----------------------------------------------------------------------

def describe(digits: Sequence[int | None]) -> str:
    """The caption of a scene whose cells hold ``digits`` (None: empty), e.g. ``(3, None, 7)`` -> "a 3 left of a 7"."""
    present = [(cell, d) for cell, d in enumerate(digits) if d is not None]
    if not present:
        raise ValueError("a scene holds at least one digit")
    if len(present) == 1:
        cell, d = present[0]
        return f"a {d} {PLACES[cell]}"
    return " left of ".join(f"a {d}" for _, d in present)


@dataclass(frozen=True)
class Scenes:
    """Canvases (N, 1, 28, 28 * CELLS) in [0, 1], what each cell holds (N, CELLS; -1 empty) and one caption each."""

    images: numpy.ndarray
    cells: numpy.ndarray
    captions: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.captions)


def make_scenes(digits: numpy.ndarray, labels: numpy.ndarray, n: int, *, seed: int = 0) -> Scenes:
    """``n`` scenes of one to three real digits from ``digits`` (M, 1, 28, 28) with ``labels``, each captioned.

    Each scene draws how many digits (1-3, equally often), which cells and which digit images; a
    digit image is used at most once per scene. The same arguments give the same scenes.
    """
    digits, labels = numpy.asarray(digits, numpy.float32), numpy.asarray(labels)
    if digits.ndim != 4 or digits.shape[1:] != (1, DIGIT, DIGIT) or len(digits) != len(labels):
        raise DataError(f"scenes need digits (M, 1, 28, 28) with one label each, not {digits.shape} and "
                        f"{labels.shape}")
    if len(digits) < CELLS:
        raise DataError(f"{len(digits)} digit images are too few for scenes: give at least {CELLS}")
    rng = numpy.random.RandomState(seed)
    images = numpy.zeros((n, 1, DIGIT, DIGIT * CELLS), numpy.float32)
    cells = numpy.full((n, CELLS), -1, numpy.int64)
    captions = []
    for i in range(n):
        count = rng.randint(1, CELLS + 1)
        where = numpy.sort(rng.choice(CELLS, count, replace=False))
        which = rng.choice(len(digits), count, replace=False)
        for cell, k in zip(where, which):
            images[i, :, :, cell * DIGIT:(cell + 1) * DIGIT] = digits[k]
            cells[i, cell] = labels[k]
        captions.append(describe([int(d) if d >= 0 else None for d in cells[i]]))
    return Scenes(images, cells, tuple(captions))


def many_answers(n_images: int, k: int) -> tuple[numpy.ndarray, list[str]]:
    """The seed's "many answers": every one of ``n_images`` images with ``k`` different jokes, as (image index, text).

    Every image gets the same ``k`` jokes (the first ``k`` of :data:`JOKES`), so whatever the image,
    each is equally likely: no model can do better than ``log k`` nats per answer.
    """
    if not 1 <= k <= len(JOKES):
        raise ValueError(f"k must be between 1 and {len(JOKES)} (the jokes there are), not {k}")
    index = numpy.repeat(numpy.arange(n_images), k)
    return index, [JOKES[j] for _ in range(n_images) for j in range(k)]


def answer_floor(k: int) -> float:
    """The lowest mean loss per token (nats) on :func:`many_answers`' jokes, ``<eos>`` counted: k log k / sum of tokens.

    Given the image, each of the k answers has probability 1/k, so the answers carry log k nats
    each, spread over their tokens; everything after the answer is chosen (the rest of its words,
    ``<eos>``) can be predicted exactly.
    """
    tokens = sum(len(tokenize(joke)) + 1 for joke in JOKES[:k])
    return k * float(numpy.log(k)) / tokens
