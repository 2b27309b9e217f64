"""Leaderboard configs and rendering (see issue: sweeps and leaderboards)."""
