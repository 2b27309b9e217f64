"""GSM8K, 8-shot chain of thought as lm-eval's gsm8k_cot; see task.py."""
