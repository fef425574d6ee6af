"""Mail: message building (headers, List-Unsubscribe), signed links, the SMTP pool, the delivery loop.

    message.py   build_message / to_wire: EmailMessage under policy.SMTP, multipart/alternative
    bulk.py      BulkMessage: one issue's message built once, filled in per recipient (same bytes)
    tokens.py    Tokens: HMAC-signed confirm and unsubscribe links bound to one subscriber
    confirm.py   ConfirmMail: the double opt-in mail from templates/email/confirm.mjml.j2
    smtp.py      parse_smtp_url, SmtpPool (reused connections, global rate), failure kinds
    deliver.py   deliver_all: the loop over pending deliveries, with its Protocols

Nothing here touches the database: the loop talks to the store through DeliveryQueue.
"""
