"""Tests of engine/background: timers, jobs, mail."""
