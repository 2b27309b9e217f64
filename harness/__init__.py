"""lc-harness: evaluate, synthesize data for, and train long-context language models."""

__version__ = "0.1.0"
