"""Field evidence against fake rectification (虚假整改): photos checked for where, when and reuse.

``checks`` holds the rules (pure), ``images`` decodes and hashes a photo, ``store`` checks and
keeps photos from a phone report, a sign-off stage or the command line, ``summary`` counts the
verdicts for pages and briefings. Reading EXIF and measuring distances is ``geo.photo``.
"""
