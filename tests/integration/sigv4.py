"""AWS Signature Version 4, checked as AWS checks it, for the SNS/STS tests (a second
implementation beside ruleeval's signer and Alertmanager's aws-sdk-go).

verify(method, path, query, headers, body, secrets) -> (verdict, scope): verdict is "ok" or
what is wrong; headers have lower-case names, body is bytes, secrets maps access keys to their
secret keys; scope is {ak, region, service, signed} when the Authorization header parses.

As a script: argv[1] is a JSON file {method, path, query, headers, body (text), secret}; prints
the verdict for that secret, whichever access key signed the request."""
import hashlib
import hmac
import json
import re
import sys


def verify(method, path, query, headers, body, secrets):
    auth = headers.get('authorization', '')
    m = re.match(r'AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$', auth)
    if not m:
        return 'bad Authorization: ' + auth, None
    ak, date, region, service, signed, sig = m.groups()
    if ak not in secrets:
        return 'unknown access key ' + ak, None
    amzdate = headers.get('x-amz-date', '')
    if not amzdate.startswith(date):
        return 'x-amz-date does not match the scope', None
    names = signed.split(';')
    if 'host' not in names or 'x-amz-date' not in names:
        return 'host and x-amz-date must be signed', None
    canon = ''.join('%s:%s\n' % (n, ' '.join(headers.get(n, '').split())) for n in names)
    q = '&'.join(sorted(p for p in query.split('&') if p))
    creq = '\n'.join([method, path or '/', q, canon, signed, hashlib.sha256(body).hexdigest()])
    scope = '%s/%s/%s/aws4_request' % (date, region, service)
    sts = '\n'.join(['AWS4-HMAC-SHA256', amzdate, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ('AWS4' + secrets[ak]).encode()
    for part in (date, region, service, 'aws4_request'):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return ('ok' if want == sig else 'signature mismatch'), {'ak': ak, 'region': region, 'service': service, 'signed': names}


class AnyKey(dict):
    """The same secret for every access key."""

    def __init__(self, secret):
        super().__init__()
        self.secret = secret

    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        return self.secret


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        r = json.load(f)
    print(verify(r["method"], r["path"], r["query"], r["headers"], r["body"].encode(),
                 AnyKey(r["secret"]))[0])
