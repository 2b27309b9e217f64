"""`python -m harness` runs the CLI (so `accelerate launch -m harness ...` works too)."""

from harness.cli import main

main()
