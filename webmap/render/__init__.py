"""Results into things people read: web maps, charts, pictures, PDFs, Word and spreadsheet files.

Renderers take ledger results (items, figures, overlap rows) and write them; they read nothing
from a request and import no Flask, so a command or a worker produces the same file as a page.
"""
