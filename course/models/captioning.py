"""Lesson 9: a caption generator, CNN features into an LSTM at t=0 only (Karpathy and Fei-Fei; the seed's bokete).

:class:`Captioner` is plain Chainer: the image's features go through ``L.Linear`` and are added to the
``<bos>`` embedding at the first step only (as in the seed's code); an ``L.LSTM`` reads the
words; ``L.Linear`` gives scores over the vocabulary. :meth:`Captioner.loss` is teacher forcing with a
softmax cross-entropy masked over padding. :func:`greedy` and :func:`beam_search` decode.

:func:`cell_features` turns a scene canvas into features with lesson 2's CNN: its ``fc3`` layer on
each 28x28 cell, side by side.
"""
from __future__ import annotations

import chainer
import chainer.functions as F
import chainer.links as L
import numpy

from course.data.captions import DIGIT, PAD
from course.models.core import predict
from course.models.mnist import MnistCNN
from course.models.saving import saveable


@saveable
class Captioner(chainer.Chain):
    """Image features (N, n_features) -> a caption, one token at a time.

    ``embed`` is the size of the word embedding (and of the projected image), ``hidden`` the LSTM's;
    the seed's 100 and 100.
    """

    def __init__(self, n_features: int, vocabulary_size: int, embed: int = 100, hidden: int = 100,
                 bos: int = 1, eos: int = 2):
        super().__init__()
        self.bos, self.eos = bos, eos
        with self.init_scope():
            self.project = L.Linear(n_features, embed)
            self.embed = L.EmbedID(vocabulary_size, embed, ignore_label=PAD)
            self.lstm = L.LSTM(embed, hidden)
            self.out = L.Linear(hidden, vocabulary_size)

    def inputs(self, features, targets):
        """What the LSTM reads, teacher forced: ``<bos>`` + image at t=0, then each target token but the last."""
        xp = self.xp
        n, length = targets.shape
        previous = xp.concatenate([xp.full((n, 1), self.bos, xp.int32), targets[:, :-1]], axis=1)
        words = self.embed(previous)  # (N, T, embed); padding embeds as zeros
        image = F.expand_dims(self.project(features), 1)
        first = F.pad(image, ((0, 0), (0, length - 1), (0, 0)), "constant")
        return words + first  # the image enters at t=0 only

    def forward(self, features, targets):
        """Scores (N, T, vocabulary) for each position of ``targets`` (N, T), given the tokens before it."""
        x = self.inputs(features, targets)
        self.lstm.reset_state()
        h = F.stack([self.lstm(x[:, t]) for t in range(x.shape[1])], axis=1)  # (N, T, hidden)
        n, length, _ = h.shape
        return F.reshape(self.out(F.reshape(h, (n * length, -1))), (n, length, -1))

    def loss(self, features, targets):
        """Mean softmax cross-entropy over the tokens of ``targets`` that are not :data:`PAD` (nats per token)."""
        scores = self.forward(features, targets)
        return F.softmax_cross_entropy(F.reshape(scores, (-1, scores.shape[-1])), targets.reshape(-1),
                                       ignore_label=PAD)

    def step(self, state, tokens, features=None):
        """One decoding step from LSTM ``state`` ``(c, h)`` (None at t=0, when ``features`` enter too).

        Returns the new state and the log-probabilities of the next token (N, vocabulary).
        """
        x = self.embed(tokens)
        if features is not None:
            x = x + self.project(features)
        self.lstm.reset_state()
        if state is not None:
            self.lstm.set_state(*(chainer.Variable(a) for a in state))
        h = self.lstm(x)
        return (self.lstm.c.array, h.array), F.log_softmax(self.out(h)).array


def _as_device_array(model: Captioner, features) -> numpy.ndarray:
    return model.xp.asarray(numpy.asarray(features, numpy.float32))


def greedy(model: Captioner, features, max_length: int = 20) -> list[list[int]]:
    """The most likely next token at every step, for each image: ids without ``<eos>``, at most ``max_length``."""
    features = _as_device_array(model, features)
    xp = model.xp
    done = numpy.zeros(len(features), bool)
    out: list[list[int]] = [[] for _ in range(len(features))]
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        tokens = xp.full(len(features), model.bos, xp.int32)
        state, logp = model.step(None, tokens, features)
        for _ in range(max_length):
            tokens = logp.argmax(axis=1).astype(xp.int32)
            for i, t in enumerate(chainer.backend.CpuDevice().send(tokens)):
                if not done[i]:
                    if t == model.eos:
                        done[i] = True
                    else:
                        out[i].append(int(t))
            if done.all():
                break
            state, logp = model.step(state, tokens)
    return out


def beam_search(model: Captioner, features, width: int = 3, max_length: int = 20) -> list[list[int]]:
    """For each image, the caption of highest total log-probability among ``width`` kept at each step (the seed's 3).

    A caption ends at ``<eos>`` (not part of the ids returned) or after ``max_length`` tokens.
    """
    if width < 1:
        raise ValueError(f"the beam width is at least 1, not {width}")
    results = []
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        for row in numpy.asarray(features, numpy.float32):
            xp = model.xp
            tokens = xp.full(1, model.bos, xp.int32)
            state, logp = model.step(None, tokens, xp.asarray(row[None]))
            beams = [(0.0, [])]  # (total log-probability, tokens) of live captions, in the state's row order
            finished = []
            for step in range(max_length + 1):
                logp = chainer.backend.CpuDevice().send(logp)
                candidates = []
                for b, (score, ids) in enumerate(beams):
                    for t in numpy.argsort(-logp[b])[:width]:
                        candidates.append((score + float(logp[b, t]), ids, int(t), b))
                candidates.sort(key=lambda item: -item[0])
                beams, rows, nexts = [], [], []
                for score, ids, t, b in candidates[:width]:
                    if t == model.eos or step == max_length:  # the end, or the length cap (t is dropped)
                        finished.append((score, ids))
                    else:
                        beams.append((score, ids + [t]))
                        rows.append(b)
                        nexts.append(t)
                best_finished = max((s for s, _ in finished), default=-numpy.inf)
                if not beams or best_finished >= beams[0][0]:
                    break
                index = xp.asarray(numpy.array(rows))
                nexts = xp.asarray(numpy.array(nexts, numpy.int32))
                state, logp = model.step((state[0][index], state[1][index]), nexts)
            results.append(max(finished, key=lambda item: item[0])[1])
    return results


class _CellFeatures(chainer.Chain):
    """``MnistCNN.features`` on each 28x28 cell of a canvas (N, 1, 28, 28 * cells), concatenated."""

    def __init__(self, cnn: MnistCNN):
        super().__init__()
        with self.init_scope():
            self.cnn = cnn

    def forward(self, x):
        n, _, _, width = x.shape
        cells = width // DIGIT
        x = F.transpose(F.reshape(x, (n, 1, DIGIT, cells, DIGIT)), (0, 3, 1, 2, 4))
        features = self.cnn.features(F.reshape(x, (n * cells, 1, DIGIT, DIGIT)))
        return F.reshape(features, (n, -1))


def cell_features(cnn: MnistCNN, canvases: numpy.ndarray, *, device=None) -> numpy.ndarray:
    """Lesson 2's CNN (its ``fc3``, 128 values) on each 28-px cell of ``canvases``: (N, 128 * cells) float32."""
    canvases = numpy.asarray(canvases, numpy.float32)
    if canvases.ndim != 4 or canvases.shape[1:3] != (1, DIGIT) or canvases.shape[3] % DIGIT:
        raise ValueError(f"canvases are (N, 1, 28, 28 * cells), not {canvases.shape}")
    return predict(_CellFeatures(cnn), canvases, device=device)
