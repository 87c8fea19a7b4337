"""The process designer's use-cases: reading and saving process files with validation, deploying, running the
YAML scenarios on a throw-away database (scenarios), and the demo district.

May import every layer below it.
"""
