"""Tests of engine/base: clocks, working days, settings, problems."""
