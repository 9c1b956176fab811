"""A local AWS for the SNS sigv4.role_arn tests: STS AssumeRole and SNS Publish, both checking
the SigV4 signature (sigv4.py), and optionally an HTTPS proxy that terminates CONNECT tunnels
itself. argv: port, log file, lifetime of the issued credentials in seconds[, certificate, key].
One JSON line per request: kind (sts|sns|connect), path, form, headers, sig ("ok" or what is
wrong) and, for STS, the credentials issued. Role names: ".../deny" -> 403 AccessDenied,
".../garbled" -> 200 with a truncated document, ".../busy" -> 503 once, then credentials."""
import datetime, http.server, json, ssl, sys, threading, urllib.parse
from sigv4 import verify
port, out, lifetime = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
tls_ctx = None
if len(sys.argv) > 5:  # also an HTTPS proxy that terminates CONNECT tunnels itself
    tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ctx.load_cert_chain(sys.argv[4], sys.argv[5])
BASE = {'AKIDBASE': 'base/Secret+Key'}
issued = {}   # temporary access key -> (secret, token)
lock = threading.Lock()
busy_seen = set()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def answer(self, status, body):
        b = body.encode()
        self.send_response(status)
        self.send_header('Content-Type', 'text/xml')
        self.send_header('Content-Length', str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_CONNECT(self):
        with lock:
            with open(out, 'a') as f:
                f.write(json.dumps({'kind': 'connect', 'target': self.path}) + '\n')
        self.send_response(200, 'Connection established')
        self.end_headers()
        self.wfile.flush()
        conn = tls_ctx.wrap_socket(self.connection, server_side=True)
        self.connection = conn
        self.rfile = conn.makefile('rb')
        self.wfile = conn.makefile('wb')
        self.tunnel = self.path
        self.close_connection = False
        while not self.close_connection:
            self.handle_one_request()
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        headers = {k.lower(): v for k, v in self.headers.items()}
        path, _, query = self.path.partition('?')
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()}
        rec = {'path': path, 'form': form, 'headers': headers, 'tunnel': getattr(self, 'tunnel', '')}
        if path.startswith('/sts') or rec['tunnel'].startswith('sts.'):
            rec['kind'] = 'sts'
            rec['sig'], rec['scope'] = verify('POST', path, query, headers, body, BASE)
            role = form.get('RoleArn', '')
            if rec['sig'] != 'ok':
                status, doc = 403, '<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>bad signature</Message></Error></ErrorResponse>'
            elif role.endswith('/deny'):
                status, doc = 403, ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                                    '<Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/am is not authorized '
                                    'to perform: sts:AssumeRole on resource: %s</Message></Error><RequestId>r-1</RequestId></ErrorResponse>' % role)
            elif role.endswith('/garbled'):
                status, doc = 200, '<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAX</AccessKeyId>'
            elif role.endswith('/busy') and role not in busy_seen:
                busy_seen.add(role)
                status, doc = 503, '<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>try later</Message></Error></ErrorResponse>'
            else:
                with lock:
                    n = len(issued) + 1
                    ak, secret, token = 'ASIATEMP%d' % n, 'temp/secret+%d' % n, 'FwoGZXIvYXdzE&%d/token+=' % n
                    issued[ak] = (secret, token)
                exp = datetime.datetime.utcnow().replace(microsecond=0) + datetime.timedelta(seconds=lifetime)
                rec['issued'] = {'ak': ak, 'secret': secret, 'token': token}
                status, doc = 200, ('<?xml version="1.0" encoding="UTF-8"?>\n<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                    '<AssumeRoleResult><SourceIdentity>am</SourceIdentity><AssumedRoleUser><AssumedRoleId>AROA:%s</AssumedRoleId>'
                    '<Arn>%s</Arn></AssumedRoleUser><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>'
                    '<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials><PackedPolicySize>6</PackedPolicySize>'
                    '</AssumeRoleResult><ResponseMetadata><RequestId>c6104cbe</RequestId></ResponseMetadata></AssumeRoleResponse>'
                    % (form.get('RoleSessionName', ''), role, ak, secret, token.replace('&', '&amp;'), exp.isoformat() + 'Z'))
        else:
            rec['kind'] = 'sns'
            with lock:
                secrets = {k: v[0] for k, v in issued.items()}
                tokens = {k: v[1] for k, v in issued.items()}
            rec['sig'], rec['scope'] = verify('POST', path, query, headers, body, secrets)
            if rec['sig'] == 'ok':
                ak = rec['scope']['ak']
                if headers.get('x-amz-security-token') != tokens[ak]:
                    rec['sig'] = 'X-Amz-Security-Token is not the session token of ' + ak
                elif 'x-amz-security-token' not in rec['scope']['signed']:
                    rec['sig'] = 'X-Amz-Security-Token is not signed'
            status, doc = (200, '<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>') \
                if rec['sig'] == 'ok' else (403, '<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>%s</Message></Error></ErrorResponse>' % rec['sig'])
        with lock:
            with open(out, 'a') as f:
                f.write(json.dumps(rec) + '\n')
        self.answer(status, doc)
http.server.ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()
