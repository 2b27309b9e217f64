"""InfiniteBench (OpenBMB): 12 real-document tasks; see README.md beside this file."""
