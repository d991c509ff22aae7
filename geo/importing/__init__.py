"""Helpers of ``geo.importer``: archives, formats, CRS, attributes, geometry, place names."""
