"""Tests of engine/store: the database, blobs, prepared statements."""
