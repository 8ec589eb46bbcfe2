"""Development tokens for the local stack, minted with the same code ``wsgate token`` uses."""

from __future__ import annotations

from dataclasses import dataclass

from chalice_app.chalicelib.tokens import mint_token


@dataclass(frozen=True)
class TokenMinter:
    """Tokens carrying the development API key, so browsers (key from the authorizer) work."""

    secret: str
    api_key: str
    ttl_s: int

    def mint(self, user: str) -> str:
        return mint_token(self.secret, user, ttl_s=self.ttl_s, api_key=self.api_key)
