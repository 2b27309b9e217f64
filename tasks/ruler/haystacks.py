"""RULER's haystacks: filler text the needles hide in."""

from __future__ import annotations

# RULER's "noise" haystack (scripts/data/synthetic/niah.py): one line repeated, lines joined by "\n".
NOISE_LINE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
