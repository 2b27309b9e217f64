"""Needle drills: synthetic retrieval examples written by RULER's task generators, no model called."""
