"""LongBench v2 (THUDM): 503 long-document multiple-choice questions in four settings; see README.md beside this file."""
