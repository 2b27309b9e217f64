"""RULER (Hsieh et al., 2024; NVIDIA/RULER @c3f5e3b): 13 synthetic long-context tasks."""

from harness.tasks.ruler.aggregate import ruler_summary
from harness.tasks.ruler.scoring import string_match_all, string_match_part
from harness.tasks.ruler.tasks import ROWS, ruler_task

__all__ = ["ROWS", "ruler_summary", "ruler_task", "string_match_all", "string_match_part"]
