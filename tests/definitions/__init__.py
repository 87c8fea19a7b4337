"""Tests of engine/definitions: validating and deploying processes and forms, write scope."""
