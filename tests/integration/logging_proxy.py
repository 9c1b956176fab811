"""A forward proxy on 127.0.0.1 that logs every request it gets and answers it itself.
argv: port, certificate, key, log file. Plain HTTP requests (absolute form) and CONNECT tunnels,
which it terminates with the given certificate, are logged one JSON line each: kind ("http",
"connect" or "tunneled"), method, target, headers (lower-case names) and body."""
import json, socket, ssl, sys, threading
port, cert, key, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
lock = threading.Lock()
def read_head(f):
    lines = []
    while True:
        line = f.readline()
        if not line or line in (b"\r\n", b"\n"):
            return lines
        lines.append(line.decode("latin-1").rstrip("\r\n"))
def parse(head):
    method, target, _ = head[0].split(" ", 2)
    headers = {}
    for h in head[1:]:
        k, v = h.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    return method, target, headers
def record(entry):
    with lock, open(log, "a") as out:
        out.write(json.dumps(entry) + "\n")
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
def json_answer(doc):
    b = json.dumps(doc).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(b) + b
def answer(target):
    """What the service behind the proxy says: an OAuth2 token endpoint at any .../token,
    Pushover's API at .../1/messages.json (its clients require status 1), "ok" elsewhere."""
    path = target.split("?", 1)[0]
    if path.endswith("/token"):
        return json_answer({"access_token": "via-proxy", "token_type": "bearer", "expires_in": 3600})
    if path.endswith("/1/messages.json"):
        return json_answer({"status": 1, "request": "x"})
    return OK
def serve(conn):
    try:
        f = conn.makefile("rb")
        head = read_head(f)
        if not head:
            conn.close()
            return
        method, target, headers = parse(head)
        if method == "CONNECT":
            record({"kind": "connect", "target": target, "headers": headers})
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            tls = ctx.wrap_socket(conn, server_side=True)
            tf = tls.makefile("rb")
            method, target, headers = parse(read_head(tf))
            body = tf.read(int(headers.get("content-length", "0")))
            record({"kind": "tunneled", "method": method, "target": target, "headers": headers,
                    "body": body.decode("utf-8", "replace")})
            tls.sendall(answer(target))
            tls.close()
            return
        body = f.read(int(headers.get("content-length", "0")))
        record({"kind": "http", "method": method, "target": target, "headers": headers,
                "body": body.decode("utf-8", "replace")})
        conn.sendall(answer(target))
        conn.close()
    except Exception as e:
        sys.stderr.write("proxy: %r\n" % (e,))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
