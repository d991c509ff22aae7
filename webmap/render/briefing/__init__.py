"""Briefing material from the ledger: the PDF pack (``pack.build_pack``) and the weekly dispatch
notice (``dispatch.build_notice`` + ``write_docx`` / ``write_pdf``); see docs/briefing.md."""
