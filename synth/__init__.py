"""Synthesis plugins that generate long-context instruction data (see issue: synthesis plugins)."""
