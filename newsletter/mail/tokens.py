"""Signed links for confirming and unsubscribing: HMAC-SHA256 (itsdangerous), bound to one subscriber.

A token carries the subscriber's id and a keyed digest of their address, never the address
itself (links get forwarded). It is only good for its purpose (the purpose is the salt), for
that subscriber with that address, and, for a confirmation, for CONFIRM_TOKEN_DAYS. An
unsubscribe token never expires and is the same in every issue: an old issue's link must
still work, and RFC 8058 one-click POSTs come at any time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from itsdangerous import BadSignature, URLSafeSerializer

from ..errors import ConfigError

CONFIRM_TOKEN_DAYS = 7


class TokenPurpose(StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"


class TokenProblem(StrEnum):
    INVALID = "invalid"  # forged, altered, truncated, for another purpose or another address
    EXPIRED = "expired"


@dataclass(frozen=True)
class TokenClaim:
    subscriber_id: int
    address_digest: str
    issued: datetime | None  # None for unsubscribe tokens


class BadToken(Exception):
    """Raised by Tokens.read; `problem` says which page to show. Not a NewsletterError:
    a bad link is an expected visitor outcome, turned into a page, never a crash."""

    def __init__(self, problem: TokenProblem, detail: str = ""):
        self.problem = problem
        super().__init__(f"{problem}: {detail}" if detail else str(problem))


class Tokens:
    def __init__(self, secret_key: str):
        if not secret_key:
            raise ConfigError("NEWSLETTER_SECRET is not set: confirm and unsubscribe links are signed "
                              "with it", field="NEWSLETTER_SECRET")
        self._key = secret_key.encode()
        self._serializers = {
            purpose: URLSafeSerializer(secret_key, salt=f"newsletter-{purpose}",
                                       signer_kwargs={"digest_method": hashlib.sha256})
            for purpose in TokenPurpose
        }

    def address_digest(self, wire_address: str) -> str:
        """A keyed digest of the address, so a token for one address is useless for another."""
        mac = hmac.new(self._key, b"address:" + wire_address.lower().encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:9]).decode()

    def make(self, purpose: TokenPurpose, subscriber_id: int, wire_address: str,
             now: datetime | None = None) -> str:
        payload: list = [subscriber_id, self.address_digest(wire_address)]
        if purpose is TokenPurpose.CONFIRM:
            if now is None:
                raise TypeError("a confirm token needs the time it is issued")  # a caller's bug
            payload.append(int(now.timestamp()))
        return self._serializers[purpose].dumps(payload)

    def read(self, purpose: TokenPurpose, token: str, now: datetime) -> TokenClaim:
        """Verify the signature and age; the caller checks the claim against the subscriber."""
        try:
            payload = self._serializers[purpose].loads(token or "")
        except BadSignature as e:
            raise BadToken(TokenProblem.INVALID, "bad signature") from e
        expected = 3 if purpose is TokenPurpose.CONFIRM else 2
        if (not isinstance(payload, list) or len(payload) != expected or not isinstance(payload[0], int)
                or not isinstance(payload[1], str) or not all(isinstance(v, int) for v in payload[2:])):
            raise BadToken(TokenProblem.INVALID, "unexpected payload")
        issued = None
        if purpose is TokenPurpose.CONFIRM:
            issued = datetime.fromtimestamp(payload[2], tz=now.tzinfo)
            if now - issued > timedelta(days=CONFIRM_TOKEN_DAYS):
                raise BadToken(TokenProblem.EXPIRED, f"issued {issued.isoformat()}")
        return TokenClaim(subscriber_id=payload[0], address_digest=payload[1], issued=issued)

    def matches(self, claim: TokenClaim, wire_address: str) -> bool:
        return hmac.compare_digest(claim.address_digest, self.address_digest(wire_address))


def link(site_url: str, route: str, token: str) -> str:
    """The absolute link for a token: {site_url}/{route}/{token}."""
    return f"{site_url.rstrip('/')}/{route}/{token}"
