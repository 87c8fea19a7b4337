"""Tests of engine/case: documents, attachments, history, ledger, facts, notifications."""
