"""Tests of engine/cli: the command line."""
