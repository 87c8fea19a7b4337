"""What a case holds beside its workflow state, and what a step produces: notices, case facts, issued documents,
the building fund's ledger (the side products registered in products.py), field history, comments, attachments.

May import every layer below `runtime`.
"""
