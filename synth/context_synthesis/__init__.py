"""Context synthesis (arXiv 2502.15592), the authors' released pipeline; see plugin.py."""
