"""Prints, as JSON, the messages an aiosmtpd Mailbox sink received, parsed by Python's email
package (an implementation independent of ruleeval's): argv[1] is one message file, or a maildir
whose new/ messages are all read (sorted by name). Each message: subject (decoded) and
raw_subject, to, from, rcpt and mailfrom (aiosmtpd's X-RcptTo / X-MailFrom), msgid, date, the
content types of every part in walk order, and its leaf parts (type, charset,
Content-Transfer-Encoding and the decoded body, line ends as sent)."""
import email
import email.policy
import glob
import json
import os
import sys


def message(path):
    with open(path, "rb") as f:
        m = email.message_from_binary_file(f, policy=email.policy.default)
    # A multipart part without subparts (a template that rendered nothing) is a leaf too, with
    # no body.
    parts = [{"type": p.get_content_type(), "charset": p.get_content_charset(),
              "cte": p["Content-Transfer-Encoding"],
              "body": None if p.get_content_maintype() == "multipart" else p.get_content()}
             for p in m.walk() if not p.is_multipart()]
    return {"subject": m["Subject"], "raw_subject": str(m.get("Subject")), "to": m["To"],
            "from": m["From"], "rcpt": m["X-RcptTo"], "mailfrom": m["X-MailFrom"],
            "msgid": m["Message-Id"], "date": m["Date"], "parts": parts,
            "types": [p.get_content_type() for p in m.walk()]}


def main(arg):
    files = sorted(glob.glob(os.path.join(arg, "new", "*"))) if os.path.isdir(arg) else [arg]
    print(json.dumps([message(f) for f in files]))


if __name__ == "__main__":
    main(sys.argv[1])
