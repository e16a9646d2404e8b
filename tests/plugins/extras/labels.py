"""Labels of the deepface photos used by the extras family's figures.

Gender: the insightface family's (tests/plugins/insightface/measure.py, each identity group decided by eye).
Expression: the faces whose expression is plain, decided by eye from a contact sheet of the 61 labelled
photos' largest faces (toothy smile = happy; closed, relaxed mouth = not smiling); the 18 in between are left out.
"""
from __future__ import annotations

from tests.plugins.insightface.measure import DEEPFACE_GENDERS

SMILING = (1, 8, 9, 15, 16, 18, 22, 23, 24, 25, 28, 38, 42, 44, 48, 49, 50)
NOT_SMILING = (2, 5, 6, 7, 11, 12, 13, 14, 29, 30, 31, 32, 33, 34, 35, 36, 37, 40, 46, 47, 51, 57, 59, 61, 62, 67)

__all__ = ["DEEPFACE_GENDERS", "NOT_SMILING", "SMILING"]
