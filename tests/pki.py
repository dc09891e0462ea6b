"""A test PKI for wss: a CA, the gateway's certificate for 127.0.0.1, and station certificates."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Pki:
    """A test CA, the gateway's certificate for 127.0.0.1, and station certificates by CN."""

    ca: trustme.CA
    cert: Path
    key: Path
    ca_pem: Path

    @classmethod
    def issue(cls, directory: Path) -> Pki:
        """A new CA and the gateway's certificate, written as PEM files into `directory`."""
        ca = trustme.CA()
        server = ca.issue_cert("127.0.0.1")
        pki = cls(ca, directory / "server.pem", directory / "server.key", directory / "ca.pem")
        server.cert_chain_pems[0].write_to_path(str(pki.cert))
        for pem in server.cert_chain_pems[1:]:
            pem.write_to_path(str(pki.cert), append=True)
        server.private_key_pem.write_to_path(str(pki.key))
        ca.cert_pem.write_to_path(str(pki.ca_pem))
        return pki

    def client(self, common_name: str | None = None) -> ssl.SSLContext:
        """A station's TLS context trusting the test CA, with a client certificate if CN given."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self.ca.configure_trust(context)
        if common_name is not None:
            self.ca.issue_cert(common_name=common_name).configure_cert(context)
        return context
