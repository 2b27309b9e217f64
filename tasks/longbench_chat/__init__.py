"""LongBench-Chat (THUDM/LongAlign) with an LLM judge; see task.py."""
