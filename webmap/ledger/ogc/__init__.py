"""OGC API - Features over the ledger, framework-free (the pygeoapi ``api/`` split).

``crs`` knows the CRSs served and transforms between them; ``cql`` parses CQL2 text or JSON with
pygeofilter and compiles it to conditions an ``IssueQuery`` carries (or to a predicate for the
boundary layers); ``sources`` lists the collections a user may read and fetches their features;
``api`` answers each OGC request with a status, headers and a body the web adapter only sends.
"""
