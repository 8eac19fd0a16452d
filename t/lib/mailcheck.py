#!/usr/bin/env python3
"""mailcheck.py: read one delivered message back with Python's email
package (the default policy: a real MIME and RFC 2047 parser) and check it
as reverify composes it (src/rv-mail.c); print its code.

usage: mailcheck.py FILE --from NAME ADDR --to ADDR --template XML TYPE
       [--var NAME=VALUE]... [--lang TAG] [--msgid-domain DOMAIN] [--no-code]

Checks: one From (display name NAME, address ADDR: the display name as
the parser decodes it, RFC 2047), one To (ADDR alone), one Subject equal
to the <subject> of template TYPE in the template file XML with {{code}}
and every --var filled in (RFC 2047 encoded words when it is not ASCII),
one Date within 5 minutes of now, one Message-ID <ID@DOMAIN>, MIME-Version
1.0, Auto-Submitted auto-generated, Content-Language TAG, no header that
neither reverify nor the MTA writes (no Bcc, Cc, Reply-To...), every raw
header line ASCII and at most 78 characters; multipart/alternative with a
text/plain and a text/html part, both utf-8 and base64, that decode
without defects; the same 6-digit code in the subject (when the template
has {{code}} there), the text and the HTML (--no-code: none at all, for a
notice). Exit 0 and the code (or "none") on stdout; exit 1 with every
failed check on stderr.
"""

import argparse
import datetime
import email
import email.policy
import re
import sys
import xml.etree.ElementTree as ET

# what reverify writes, and what an MTA adds on the way to a Maildir
OURS = {"from", "to", "subject", "date", "message-id", "mime-version",
        "auto-submitted", "content-language", "content-type"}
MTA = {"return-path", "x-original-to", "delivered-to", "received"}
ONCE = ["from", "to", "subject", "date", "message-id", "mime-version",
        "auto-submitted", "content-type"]
CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


def template_subject(path, ttype):
    root = ET.parse(path).getroot()
    for t in root.iter("template"):
        if t.get("type") == ttype:
            return t.findtext("subject").strip()
    raise SystemExit("mailcheck: no template %s in %s" % (ttype, path))


def raw_header_lines(data):
    head = data.split(b"\n\n", 1)[0].replace(b"\r\n", b"\n")
    return head.split(b"\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--from", dest="frm", nargs=2, required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--template", nargs=2, required=True)
    ap.add_argument("--var", action="append", default=[])
    ap.add_argument("--lang")
    ap.add_argument("--msgid-domain", default="rv.test")
    ap.add_argument("--no-code", action="store_true")
    a = ap.parse_args()
    bad = []

    with open(a.file, "rb") as f:
        data = f.read()
    msg = email.message_from_bytes(data, policy=email.policy.default)

    # the raw header section: ASCII, short lines (RFC 5322 2.1.1); the
    # MTA's Received lines are not ours to judge
    ours = False
    for line in raw_header_lines(data):
        if line[:1] not in (b" ", b"\t"):
            ours = line.split(b":", 1)[0].lower().decode("ascii", "replace") in OURS
        if not ours:
            continue
        try:
            line.decode("ascii")
        except UnicodeDecodeError:
            bad.append("header line is not ASCII: %r" % line)
        if len(line) > 78:
            bad.append("header line of %d characters: %r" % (len(line), line))

    names = [k.lower() for k in msg.keys()]
    for n in sorted(set(names) - OURS - MTA):
        bad.append("unexpected header %s: %r" % (n, msg.get_all(n)))
    for n in ONCE:
        if names.count(n) != 1:
            bad.append("%d %s headers, want 1" % (names.count(n), n))
    if msg.defects:
        bad.append("message defects: %r" % msg.defects)
    for n in msg.keys():
        for v in msg.get_all(n):
            if getattr(v, "defects", None):
                bad.append("defects in %s: %r" % (n, v.defects))

    frm = msg["From"].addresses if msg["From"] else ()
    got = [(x.display_name, x.addr_spec) for x in frm]
    if got != [tuple(a.frm)]:
        bad.append("From %r, want %r" % (got, [tuple(a.frm)]))
    to = msg["To"].addresses if msg["To"] else ()
    got = [(x.display_name, x.addr_spec) for x in to]
    if got != [("", a.to)]:
        bad.append("To %r, want %r" % (got, [("", a.to)]))

    date = msg["Date"].datetime if msg["Date"] else None
    now = datetime.datetime.now(datetime.timezone.utc)
    if date is None or date.tzinfo is None or abs((now - date).total_seconds()) > 300:
        bad.append("Date %r is not now" % msg["Date"])
    mid = str(msg["Message-ID"] or "")
    if not re.fullmatch(r"<[0-9a-z]+@%s>" % re.escape(a.msgid_domain), mid):
        bad.append("Message-ID %r is not <ID@%s>" % (mid, a.msgid_domain))
    if str(msg["MIME-Version"]) != "1.0":
        bad.append("MIME-Version %r" % msg["MIME-Version"])
    if str(msg["Auto-Submitted"]) != "auto-generated":
        bad.append("Auto-Submitted %r" % msg["Auto-Submitted"])
    if a.lang and str(msg["Content-Language"]) != a.lang:
        bad.append("Content-Language %r, want %r" % (msg["Content-Language"], a.lang))

    # the structure and the parts
    if msg.get_content_type() != "multipart/alternative":
        bad.append("Content-Type %s, want multipart/alternative" % msg.get_content_type())
    parts = list(msg.iter_parts()) if msg.is_multipart() else []
    types = [p.get_content_type() for p in parts]
    if types != ["text/plain", "text/html"]:
        bad.append("parts %r, want text/plain, text/html" % types)
    bodies = {}
    for p in parts:
        t = p.get_content_type()
        if p.get_content_charset() != "utf-8":
            bad.append("%s charset %r" % (t, p.get_content_charset()))
        if p.get("Content-Transfer-Encoding") != "base64":
            bad.append("%s transfer encoding %r" % (t, p.get("Content-Transfer-Encoding")))
        if p.defects:
            bad.append("%s defects %r" % (t, p.defects))
        try:
            bodies[t] = p.get_content()
        except (LookupError, ValueError) as e:
            bad.append("%s does not decode: %s" % (t, e))
    text = bodies.get("text/plain", "")
    html = bodies.get("text/html", "")

    # the code: one, the same everywhere (or none in a notice)
    codes = set(CODE.findall(text)) | set(CODE.findall(html))
    subject = str(msg["Subject"] or "")
    want = template_subject(*a.template)
    if a.no_code:
        if codes or CODE.search(subject):
            bad.append("a 6-digit number in a notice: %r" % sorted(codes))
        code = "none"
    elif len(codes) != 1 or not CODE.search(text) or not CODE.search(html):
        bad.append("codes in the text and HTML: %r, want one in both" % sorted(codes))
        code = "none"
    else:
        code = codes.pop()
    want = want.replace("{{code}}", code)
    for v in a.var:
        k, _, val = v.partition("=")
        want = want.replace("{{%s}}" % k, val)
    if subject != want:
        bad.append("Subject %r, want %r" % (subject, want))
    raw_subject = data.split(b"\nSubject:", 1)[-1].split(b"\n")[0]
    if not want.isascii() and not raw_subject.lstrip().startswith(b"=?UTF-8?B?"):
        bad.append("Subject not in RFC 2047 encoded words: %r" % raw_subject)

    if bad:
        sys.stderr.write("mailcheck: %s:\n" % a.file)
        for b in bad:
            sys.stderr.write("  %s\n" % b)
        return 1
    print(code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
