"""Tests of the fake Bot API server and its spec validator."""
