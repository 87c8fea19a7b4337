"""The `tongban` command line (click): one module per group of commands. `serve` is added by api/cli.py,
since the engine never imports the web app.

May import every layer of the engine.
"""
