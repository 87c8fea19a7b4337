"""Who may see and do what: actors and every permission decision (access — the one place), accounts and
their administration, API tokens and log-in throttling (auth), the identity platform's claim mapping rule
and the links from its people to users (federation), claiming and delegating tasks (assignment).

May import `base`, `store`, `bpmn`, `definitions`.
"""
