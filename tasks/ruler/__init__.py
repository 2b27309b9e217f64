"""RULER (Hsieh et al., 2024; NVIDIA/RULER @c3f5e3b): synthetic long-context tasks."""

from tasks.ruler.scoring import string_match_all, string_match_part
from tasks.ruler.tasks import NIAH_ROWS, niah_task

__all__ = ["NIAH_ROWS", "niah_task", "string_match_all", "string_match_part"]
