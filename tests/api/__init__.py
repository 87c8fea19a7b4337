"""Tests of api/: the HTTP API and the pages."""
