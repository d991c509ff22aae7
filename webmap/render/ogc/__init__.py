"""OGC API - Features documents and request handling, framework-free (pygeoapi's ``api/`` split).

``api`` takes a parsed request (path, arguments, who asks) and returns an ``OgcResponse`` (status,
headers, a JSON body or the data an HTML template needs); ``webmap.web.views.ogcapi`` only turns
Flask's request into that call and the result into a Flask response.
"""
