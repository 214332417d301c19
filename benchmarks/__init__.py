"""Benchmarks: tl-integrations against the official ``twelvelabs`` SDK, on the local emulator.

Run them all with ``make bench`` (``python -m benchmarks.run_all``), which writes
``benchmarks/RESULTS.md``; run one alone with ``python -m benchmarks.bench_wait_many`` etc.
Every module exposes ``run(**params) -> dict`` in the shape described in
:mod:`benchmarks._common`.
"""
