"""HTTPS subscriptions: eddy speaks TLS to the endpoint and, like AWS, only delivers to endpoints
whose certificate a trusted CA signed ("Amazon SNS ... HTTPS endpoints must have a certificate
signed by a trusted CA"). A self-signed endpoint therefore sees a TLS handshake that eddy aborts,
and the subscription stays pending."""

from __future__ import annotations

import datetime
import socket
import ssl
import tempfile
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(directory: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


class TlsEndpoint:
    """Accepts TCP connections and tries a server-side TLS handshake on each; records outcomes."""

    def __init__(self, cert: str, key: str):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.handshakes_refused = 0
        self.requests = 0
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(5)
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    if tls.recv(1):
                        self.requests += 1
            except (ssl.SSLError, ConnectionError, OSError):
                self.handshakes_refused += 1

    def close(self):
        self.stop.set()
        self.sock.close()


@pytest.fixture
def tls_endpoint():
    with tempfile.TemporaryDirectory() as d:
        endpoint = TlsEndpoint(*self_signed(d))
        yield endpoint
        endpoint.close()


def test_https_endpoint_with_untrusted_certificate_gets_no_request(sns, topic, tls_endpoint):
    arn = sns.subscribe(
        TopicArn=topic, Protocol="https", Endpoint=f"https://127.0.0.1:{tls_endpoint.port}/hook", ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    deadline = time.monotonic() + 10
    while tls_endpoint.handshakes_refused == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    # eddy connected and spoke TLS, then refused the self-signed certificate: no request was sent
    assert tls_endpoint.handshakes_refused >= 1
    assert tls_endpoint.requests == 0
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "true"
