"""The shared base: errors, settings, the clock, working-day arithmetic, the vocabulary, notices, strict JSON, XML
parsing without entities, validation problems, paging.

Imports nothing of tongban's outside `base`. No database and no SpiffWorkflow; the clock and the calendar are
per runtime, read through context variables (engine/runtime/context.py enters them).
"""
