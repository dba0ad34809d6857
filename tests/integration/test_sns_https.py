"""SNS delivery to https endpoints: a TLS receiver on 127.0.0.1 with a certificate from a
throwaway CA, trusted through `--sns-https-ca` or, without it, rejected."""

import http.server
import json
import ssl
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import unique_name
from test_sns_delivery import verify_signature, wait_for


@pytest.fixture
def certificates(tmp_path):
    """A CA and a certificate for localhost and 127.0.0.1 signed by it, made with openssl."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True,
                       timeout=60)

    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Lambent SNS Test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    (tmp_path / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", "server.pem", "-extfile", "server.ext")
    return tmp_path


class TlsReceiver:
    """An https subscriber on 127.0.0.1: counts connections and failed TLS handshakes,
    records every POST and confirms subscriptions through their SubscribeURL."""

    def __init__(self, certificates):
        self.requests = []
        self.connections = 0
        self.handshake_errors = []
        self.lock = threading.Lock()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if self.headers.get("x-amz-sns-message-type") == "SubscriptionConfirmation":
                    url = json.loads(body)["SubscribeURL"]
                    with urllib.request.urlopen(url, timeout=10) as response:
                        receiver.confirmation = (response.status, response.read())

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            def get_request(self):
                sock, address = self.socket.accept()
                with receiver.lock:
                    receiver.connections += 1
                # The handshake runs on the handler's thread, at its first read.
                return context.wrap_socket(sock, server_side=True,
                                           do_handshake_on_connect=False), address

            def handle_error(self, request, client_address):
                import sys
                with receiver.lock:
                    receiver.handshake_errors.append(repr(sys.exc_info()[1]))

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.port = self.server.server_address[1]

    def of_type(self, kind):
        with self.lock:
            return [(h, b) for h, b in self.requests if h.get("x-amz-sns-message-type") == kind]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(certificates):
    r = TlsReceiver(certificates)
    yield r
    r.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_https_confirmation_and_notification(fresh_server, certificates, receiver, host):
    server = fresh_server("--sns-https-ca", str(certificates / "ca.pem"))
    sns = server.client("sns")
    topic = sns.create_topic(Name=unique_name("to-https"))["TopicArn"]
    endpoint = f"https://{host}:{receiver.port}/hook"
    sub = sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=endpoint,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    confirmed = wait_for(lambda: sns.get_subscription_attributes(SubscriptionArn=sub)[
        "Attributes"]["PendingConfirmation"] == "false")
    assert confirmed, f"not confirmed; handshake errors: {receiver.handshake_errors}"
    headers, raw = receiver.of_type("SubscriptionConfirmation")[0]
    confirmation = json.loads(raw)
    assert headers["x-amz-sns-topic-arn"] == topic
    assert headers["Host"] == f"{host}:{receiver.port}"
    assert confirmation["SubscribeURL"].startswith(
        server.endpoint + "/?Action=ConfirmSubscription")
    assert b"<SubscriptionArn>" + sub.encode() in receiver.confirmation[1]

    message_id = sns.publish(TopicArn=topic, Message="hello https", Subject="Hi")["MessageId"]
    notes = wait_for(lambda: receiver.of_type("Notification"))
    assert len(notes) == 1
    headers, raw = notes[0]
    assert headers["x-amz-sns-message-id"] == message_id
    assert headers["x-amz-sns-subscription-arn"] == sub
    note = json.loads(raw)
    assert note["Message"] == "hello https"
    assert note["Subject"] == "Hi"
    with urllib.request.urlopen(note["SigningCertURL"], timeout=10) as response:
        certificate = response.read()
    verify_signature(note, certificate)
    verify_signature(confirmation, certificate)
    assert receiver.handshake_errors == []


def test_untrusted_https_endpoint_stops_retrying(fresh_server, receiver):
    # Without --sns-https-ca only the system store is trusted, so the throwaway CA is not.
    server = fresh_server()
    sns = server.client("sns")
    topic = sns.create_topic(Name=unique_name("untrusted"))["TopicArn"]
    policy = {"healthyRetryPolicy": {"numRetries": 2, "numNoDelayRetries": 0,
                                     "minDelayTarget": 1, "maxDelayTarget": 1,
                                     "numMinDelayRetries": 2, "numMaxDelayRetries": 0,
                                     "backoffFunction": "linear"}}
    endpoint = f"https://127.0.0.1:{receiver.port}/hook"
    sub = sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=endpoint,
                        Attributes={"DeliveryPolicy": json.dumps(policy)},
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    # The first attempt and two retries, 1 s apart, each refused during the handshake.
    assert wait_for(lambda: len(receiver.handshake_errors) >= 3, timeout=20)
    time.sleep(4)
    assert receiver.connections == 3
    assert len(receiver.handshake_errors) == 3
    assert receiver.requests == []
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["PendingConfirmation"] == "true"
    log = server.log()
    assert f"TLS handshake with {endpoint} failed: certificate verification failed" in log
    assert "delivery_failed" in log
