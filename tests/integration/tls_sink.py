"""A TLS webhook sink (Python's ssl) for the tls_config tests. argv: port, certificate, key,
log file. Answers every POST with 200 "ok" and logs one JSON line per request: the SNI the client
sent, Host and path."""
import http.server, json, ssl, sys
port, cert, key, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
sni = {}
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
def on_sni(sock, name, c):
    sni[id(sock)] = name
ctx.sni_callback = on_sni
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0)
        self.rfile.read(n)
        with open(out, 'a') as f:
            f.write(json.dumps({'sni': sni.get(id(self.connection)), 'host': self.headers.get('Host'),
                                'path': self.path}) + '\n')
        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers()
        self.wfile.write(b'ok')
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(('127.0.0.1', port), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
