"""Sandbox tests use the `sandbox` fixture of tests/conftest.py (a real HTTP server)."""
