"""An SMTP sink for the production scenario, standing in for the site's mail relay (aiosmtpd, Debian's
python3-aiosmtpd): STARTTLS with the host's certificate is required, then AUTH with one user whose password
is read from a file (the vault's SMTP password). Every message is stored as <n>.eml beside a <n>.json
with its envelope and session (sender, recipients, authenticated user, TLS), for the tests to read."""

import argparse
import asyncio
import json
import os
import ssl
import threading

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

LOCK = threading.Lock()


class Store:
    def __init__(self, out):
        self.out = out
        os.makedirs(out, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        with LOCK:
            number = len([name for name in os.listdir(self.out) if name.endswith(".eml")]) + 1
            base = os.path.join(self.out, "%04d" % number)
            with open(base + ".eml", "wb") as handle:
                handle.write(envelope.original_content or envelope.content)
            # The authenticator returns the login as auth_data; aiosmtpd keeps it on the session.
            login = getattr(session, "auth_data", None) or b""
            meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "tls": bool(session.ssl),
                    "authenticated": bool(getattr(session, "authenticated", False)),
                    "login": login.decode("utf-8", "replace") if isinstance(login, bytes) else str(login)}
            with open(base + ".json", "w", encoding="utf-8") as handle:
                json.dump(meta, handle)
        return "250 Message accepted"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, auth_data=auth_data.login if ok else None)
    return check


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listen", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.password_file, encoding="utf-8") as handle:
        password = handle.read().strip()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    store = Store(args.out)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(store, hostname="smtp-sink", tls_context=context, require_starttls=True,
                    authenticator=authenticator(args.user, password), auth_required=True, auth_require_tls=True)
    server = loop.run_until_complete(loop.create_server(factory, host=args.listen, port=args.port))
    print("smtp-sink: listening on %s:%d" % (args.listen, args.port), flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
