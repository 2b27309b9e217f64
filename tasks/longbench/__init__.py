"""LongBench v1 and LongBench-E (THUDM): 21 datasets; see README.md beside this file."""
