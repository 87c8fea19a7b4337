"""Tests of engine/runtime: the runtime API, inbox, incidents, supervision."""
