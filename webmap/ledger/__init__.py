"""The ledger (台账): models, storage, workflow, queries, figures and the layers in use.

Domain code only: no Flask, no rendering. Everything a question needs (the day, the amber and
公示 periods, the boundary layers in use, a database session) is passed in, usually as a
``webmap.ledger.context.LedgerContext``, so the same code answers a request, a command, a
benchmark or a worker process.
"""
