"""yzmap: Yongzhou's rectification issues on a map.

``webmap.ledger`` is the domain (no Flask, no rendering), ``webmap.render`` turns results into
maps, pictures and documents, ``webmap.web`` is the Flask service and ``webmap.commands`` the
``yzmap`` command line. ``create_app`` is imported lazily so that ``import webmap.ledger`` in a
worker or a benchmark never loads Flask.
"""

from __future__ import annotations


def create_app(test_config: dict | None = None):
    """Create the Flask app (``webmap.web.app.create_app``)."""
    from webmap.web.app import create_app as _create_app

    return _create_app(test_config)
