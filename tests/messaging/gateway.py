"""A generic HTTP SMS gateway on 127.0.0.1 for the tests: it answers as such gateways do
(``{"code": 0, "msgid": "G-…"}``) after ``delay`` seconds per call, and keeps every message it
accepted (``received``: phone, text, the message id; ``accepted``: the ids in order) and the most
calls it had in hand at once."""

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Gateway:
    def __init__(self, delay: float = 0.0):
        self.received: list[dict] = []
        self.accepted: list[str] = []
        self.busy = 0
        self.most_at_once = 0
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                fields = dict(urllib.parse.parse_qsl(body))
                with gateway.lock:
                    gateway.busy += 1
                    gateway.most_at_once = max(gateway.most_at_once, gateway.busy)
                time.sleep(delay)
                with gateway.lock:
                    gateway.busy -= 1
                    gateway.received.append(fields)
                    gateway.accepted.append(fields["msgid"])
                answer = json.dumps({"code": 0, "msgid": "G-" + fields["msgid"]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def settings(self) -> dict:
        return {
            "URL": self.url,
            "METHOD": "POST",
            "BODY": "mobile={phone}&content={text}&msgid={key}",
            "CONTENT_TYPE": "form",
            "SUCCESS": "code=0",
            "ID_FIELD": "msgid",
        }

    def close(self):
        self.server.shutdown()
        self.server.server_close()
