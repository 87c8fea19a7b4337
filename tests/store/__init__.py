"""Tests of engine/store: the database, blobs, a step's statements."""
