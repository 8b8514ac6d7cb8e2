"""Benchmarks of the running app against the local fakes; `python -m benchmarks --help`.

Every figure is measured in the same run as its baseline (a bare Bolt app, a plain httpx
copy, or an ideal count), because the machines that run this are small and noisy.
"""
