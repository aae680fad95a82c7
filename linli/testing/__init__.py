"""Shared test support: role clients (clients), the English fixture (language), test data
builders (builders) and the Playwright harness (browser).

Used by the tests only; linli/conftest.py registers the fixtures for every test.
"""
