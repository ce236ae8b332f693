"""Exercise checkers: each tells the learner in one line whether an answer is right, never stopping the notebook.

A checker is written as a function that raises :class:`Wrong` with a hint when the answer is wrong;
the :func:`checker` decorator turns it into one that prints ``✓ title: correct`` or
``✗ title: <hint>`` and returns ``True`` or ``False`` (solutions notebooks ``assert`` it).
"""
from __future__ import annotations

import functools
from typing import Callable


class Wrong(Exception):
    """Raised inside a checker: the answer is wrong, and the message is the hint to show."""


def checker(title: str) -> Callable[[Callable[..., None]], Callable[..., bool]]:
    """Decorate a function that raises :class:`Wrong` on a wrong answer; see the module docstring."""

    def decorate(check: Callable[..., None]) -> Callable[..., bool]:
        @functools.wraps(check)
        def run(*args, **kwargs) -> bool:
            try:
                check(*args, **kwargs)
            except Wrong as wrong:
                print(f"✗ {title}: {wrong}")
                return False
            except Exception as error:  # the learner's code broke: report it, don't stop the notebook
                print(f"✗ {title}: checking your answer raised {type(error).__name__}: {error}")
                return False
            print(f"✓ {title}: correct")
            return True

        return run

    return decorate
