"""Hierarchical QA (He et al., arXiv 2504.12637): chunk summaries, hierarchically sampled questions,
documents concatenated to a target length."""
