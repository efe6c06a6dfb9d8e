"""Drafting a knowledge-base entry from a notice's plain text (`python -m bot kb draft`).

One module per concern: `text` (decoding, web-page noise, page breaks), `layout` (documents,
attachments, clauses), `docnumbers`, `dates`, `relative`, `occupations`, `contacts`, `forms`,
`facts` (knowledge-base shaped facts), `draft` (assembly and YAML) and `recall` (comparison with
the hand-made entries).
"""

from knowledge.drafting.draft import Draft, DraftNotice, draft_notice, read_notice_file
from knowledge.drafting.text import NotTextError, decode_notice

__all__ = ["Draft", "DraftNotice", "NotTextError", "decode_notice", "draft_notice", "read_notice_file"]
