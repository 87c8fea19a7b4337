"""Persistence: the tables (models), sessions and transactions (db), the few statements every step runs
(statements), case numbers, stored calendar years and attachment blobs.

May import `base`. Knows nothing of BPMN: rows in, rows out.
"""
