"""Subscribers (pipeline layer): the public double opt-in and unsubscribe flows, and the operator's
roster (add, remove, CSV import with preview and dedupe, CSV export).

    public.py   Subscriptions: subscribe / check_confirm / confirm / check_unsubscribe / unsubscribe
    roster.py   add_addresses, remove_addresses, preview_import, apply_import, export_csv
"""

from .public import (LinkOutcome, LinkResult, Mailer, SubscribeOutcome, SubscribeResult, Subscriptions,
                     wire_address)
from .roster import (AddOutcome, AddResult, ImportPreview, ImportRow, RemoveOutcome, RowVerdict, add_addresses,
                     apply_import, decode_csv, export_csv, preview_import, remove_addresses)

__all__ = [
    "AddOutcome", "AddResult", "ImportPreview", "ImportRow", "LinkOutcome", "LinkResult", "Mailer",
    "RemoveOutcome", "RowVerdict", "SubscribeOutcome", "SubscribeResult", "Subscriptions", "add_addresses",
    "apply_import", "decode_csv", "export_csv", "preview_import", "remove_addresses", "wire_address",
]
