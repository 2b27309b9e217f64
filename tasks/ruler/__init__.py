"""RULER (Hsieh et al., 2024; NVIDIA/RULER @c3f5e3b): 13 synthetic long-context tasks."""

from tasks.ruler.aggregate import ruler_summary
from tasks.ruler.scoring import string_match_all, string_match_part
from tasks.ruler.tasks import ROWS, ruler_task

__all__ = ["ROWS", "ruler_summary", "ruler_task", "string_match_all", "string_match_part"]
