"""tongban's engine: the runtime around SpiffWorkflow, driven by the CLI, the web app and the workers alike.

Layered packages, each importing only those below it (kept by the import-linter contract in pyproject.toml,
run by tests/test_layers.py), and never Flask, Werkzeug or `api`:

    cli          the `tongban` commands (the web app adds `serve`: api/cli.py)
    design       the designer's use-cases, scenario runner, demo district
    background   timers, SLA notices, e-mail, Celery jobs
    runtime      the commands and queries: start, complete, advance, inbox, case views
    case         what a step produces beside the workflow: notices, facts, documents, ledger, history
    people       who may see and do what: actors, accounts, tokens, assignment
    definitions  process files -> validated, content-addressed versions
    bpmn         SpiffWorkflow in memory: scripts, serialization, stepping, service tasks (no database)
    store        tables, sessions, the hot-path SQL
    base         errors, settings, clock, working days, vocabulary (no I/O beyond reading settings)
"""
