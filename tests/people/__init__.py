"""Tests of engine/people: access, accounts, delegation."""
