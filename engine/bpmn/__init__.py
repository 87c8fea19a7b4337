"""SpiffWorkflow in memory: the restricted script environment and its budget, spec-less serialization and the
spec cache (state) with SpiffWorkflow's timers reading the runtime's clock, running a workflow until it waits
(stepping), service tasks, and what a step changed in the data (changes).

May import `base` and `store`; it imports only `base`: nothing here opens a database.
"""
