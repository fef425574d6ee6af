"""Migration of the render issue: issues and their items."""

ISSUES_V3 = """
-- (not written yet)
"""
