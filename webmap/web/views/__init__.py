"""One blueprint per module; views never import each other (``tests/test_layering.py``)."""
