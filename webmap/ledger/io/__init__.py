"""The ledger (台账) in files: the Excel/CSV template, reading, validation, import and export.

``template`` names the columns, ``reader`` finds them in a workbook or CSV, ``validate`` turns
cells into typed values with one error per bad cell, ``importer`` writes a whole file in one
transaction, and ``exporters`` writes the rows an ``IssueQuery`` selects in five formats.
"""
