"""MMLU (57 subjects) as lm-evaluation-harness runs it; see task.py."""
