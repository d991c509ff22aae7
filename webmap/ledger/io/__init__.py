"""The ledger (台账) in files: the Excel/CSV template, reading, validation and import.

``template`` names the columns, ``reader`` finds them in a workbook or CSV, ``validate`` turns
cells into typed values with one error per bad cell, ``attribute`` places each row through
``geo``, ``importer`` writes a whole file in one transaction, ``rows`` and ``formulas`` format
values so that ``webmap.render.ledger_export`` writes files the importer reads back unchanged.
"""
