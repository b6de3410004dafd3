"""A small local stand-in for Microsoft's Bot Framework OpenID metadata and signing keys (JWKS)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
METADATA_PATH = "/.well-known/openidconfiguration"
KEYS_PATH = "/keys"


@dataclass
class SigningKey:
    """An RSA key made for the test, as Microsoft publishes its keys: a JWK with `kid` and `endorsements`."""

    kid: str
    endorsements: Optional[list[str]] = field(default_factory=lambda: ["msteams"])
    private: Any = None

    def __post_init__(self) -> None:
        if self.private is None:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict:
        key = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        key.update(kid=self.kid, use="sig")
        if self.endorsements is not None:
            key["endorsements"] = self.endorsements
        return key

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict, kid: Optional[str] = None) -> str:
        """A token signed RS256 with this key, naming `kid` (this key's unless told)."""
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


@dataclass
class FakeOpenId:
    """Serves the metadata document and the key set; `mode` "ok", "fail" (HTTP 500) or "hang" (no answer)."""

    keys: list[SigningKey] = field(default_factory=list)
    mode: str = "ok"
    requests: list[str] = field(default_factory=list)
    server: Optional[ThreadingHTTPServer] = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def metadata_url(self) -> str:
        return self.base + METADATA_PATH

    def start(self) -> FakeOpenId:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with fake.lock:
                    fake.requests.append(self.path)
                    mode, keys = fake.mode, [k.jwk() for k in fake.keys]
                if mode == "hang":
                    fake.released.wait(60)
                    return
                if mode == "fail":
                    status, payload = 500, {"error": "unavailable"}
                elif self.path == METADATA_PATH:
                    status, payload = (
                        200,
                        {
                            "issuer": ISSUER,
                            "jwks_uri": fake.base + KEYS_PATH,
                            "id_token_signing_alg_values_supported": ["RS256"],
                        },
                    )
                elif self.path == KEYS_PATH:
                    status, payload = 200, {"keys": keys}
                else:
                    status, payload = 404, {"error": "not found"}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.released.set()
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def fetches(self, path: str = KEYS_PATH) -> int:
        with self.lock:
            return sum(1 for p in self.requests if p == path)
