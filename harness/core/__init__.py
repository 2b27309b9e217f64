"""The ground floor: types, records, errors, the registry, prompt rendering, token costs, backends and built-in models.

Nothing here imports from above (`harness.tasks`, `harness.synth`, the runner, trainer, sweep, boards or CLI);
tests/test_import_floors.py keeps it so.
"""
