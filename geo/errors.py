"""Exceptions raised by the geospatial core; none of them knows about HTTP."""

from __future__ import annotations


class GeoError(Exception):
    """Base class for every error raised by ``geo``."""


class InvalidCoordinates(GeoError):
    """A coordinate value could not be read or is not a plausible position."""


class UnknownCRS(GeoError):
    """A coordinate reference system or datum name is not recognised."""


class CRSNeedsConfirmation(GeoError):
    """The CRS of a file had to be guessed and must be confirmed by the user."""


class AddressNotUnderstood(GeoError):
    """Address text names no place that the gazetteer knows."""


class BoundaryDataError(GeoError):
    """A boundary file or layer is unreadable, malformed or out of area."""


class ImportFileError(GeoError):
    """A user-supplied file cannot be imported; the message names file, feature and field."""
