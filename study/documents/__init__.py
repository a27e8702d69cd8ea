"""Study documents (statutes, notes, PDFs): upload and quotas, bounded text extraction,
structure-aware chunking with citations, embedding, retrieval and search.
"""
