"""Migration of the delivery issue: subscribers and deliveries."""

MAIL_V4 = """
-- (not written yet)
"""
