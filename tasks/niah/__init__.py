"""The classic Needle-in-a-Haystack test: a depth x length grid and its heatmap."""

from harness.tasks.niah.task import niah_task

__all__ = ["niah_task"]
