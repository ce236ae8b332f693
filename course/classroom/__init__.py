"""For an instructor running the course for a class: hand out a student copy, grade submissions, validate lessons.

* :func:`release` writes the student copy: the lesson notebooks without outputs, exercises open, no
  worked solutions, and a short README for students (``python -m course release --out DIR``).
* :func:`grade` runs every student's notebooks, each in its own kernel, in a temporary copy, in the
  quick profile, with time limits and without network, and writes one CSV row per student with a
  column per exercise (``python -m course grade SUBMISSIONS --out grades.csv``). The exercise
  results are the ones the checkers record (:mod:`course.checks`, ``COURSE_CHECKS_FILE``).
* :func:`validate` runs notebooks the way CI does, with nbval in the quick profile, and reports
  per notebook (``python -m course validate NOTEBOOK...``).

:mod:`course.classroom.sandbox` says what a submission is kept from doing, and what not.
"""
from __future__ import annotations

from course.classroom.grade import Gradebook, Limits, exercises_of, grade
from course.classroom.release import release
from course.classroom.validate import validate

__all__ = ["Gradebook", "Limits", "exercises_of", "grade", "release", "validate"]
