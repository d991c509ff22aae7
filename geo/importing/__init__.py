"""Helpers of ``geo.importer``: archive extraction, format reading, CRS, attributes, geometry, place."""
