"""Migration of the editor queue issue: curator accounts, API tokens, drafts, picks order, full-text search."""

EDITOR_V2 = """
-- (not written yet)
"""
