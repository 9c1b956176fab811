"""An SMTP server (aiosmtpd) that offers LOGIN, PLAIN and CRAM-MD5 and accepts only CRAM-MD5 for
user "am" with secret "cram-secret". argv: port, log file; one JSON line per AUTH attempt and per
message."""
import asyncio, hashlib, hmac, json, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, MISSING
port, out = int(sys.argv[1]), sys.argv[2]
def log(d):
    with open(out, 'a') as f: f.write(json.dumps(d) + '\n')
class H:
    async def auth_CRAM__MD5(self, server, args):
        chal = b'<4711.1700000000@ruleeval.test>'
        resp = await server.challenge_auth(chal)
        if resp is MISSING:
            return AuthResult(success=False, handled=False)
        user, _, digest = resp.decode().partition(' ')
        ok = user == 'am' and digest == hmac.new(b'cram-secret', chal, hashlib.md5).hexdigest()
        log({'auth': 'CRAM-MD5', 'user': user, 'ok': ok})
        return AuthResult(success=ok, handled=False)
    async def handle_DATA(self, server, session, envelope):
        log({'mail_from': envelope.mail_from, 'rcpt': envelope.rcpt_tos, 'authed': session.authenticated})
        return '250 OK'
def fail(server, session, envelope, mechanism, auth_data):
    log({'auth': mechanism, 'ok': False})
    return AuthResult(success=False, handled=False)
c = Controller(H(), hostname='127.0.0.1', port=port, auth_require_tls=False, authenticator=fail)
c.start()
while True: time.sleep(3600)
