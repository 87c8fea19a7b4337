"""Who may see and do what: actors and every permission decision (access — the one place), accounts and
their administration, API tokens and log-in throttling (auth), claiming and delegating tasks (assignment).

May import `base`, `store`, `bpmn`, `definitions`.
"""
