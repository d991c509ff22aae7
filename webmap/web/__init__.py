"""The Flask service: the app factory, request context, accounts, security and the views.

The only package that imports Flask or werkzeug. ``views/`` holds one blueprint per module; the
modules beside it (``args``, ``items``, ``mapview``, ``auth``, ``uploads``...) are what views share.
"""
