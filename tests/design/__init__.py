"""Tests of engine/design: designer and scenarios."""
