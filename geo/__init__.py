"""yzmap geospatial core: datums, boundaries, gazetteer, geocoding and overlap. No web code here."""
