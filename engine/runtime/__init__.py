"""The runtime: `Runtime` (runtime.py) with its commands (start, complete, advance, suspend, …) and queries
(instances, inbox, case views, supervision); the one commit path every step's writes take (commit.py); the
run context each piece of work enters (context.py).

May import every layer below it; used by `background`, `design`, `cli` and the web app.
"""
