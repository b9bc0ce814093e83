"""A headless Chromium (Debian's `chromium`) driven over the DevTools protocol on a pipe, standard library only.

`--remote-debugging-pipe` makes Chromium read DevTools commands from its file descriptor 3 and write replies and
events to descriptor 4, one JSON message each, ended by a NUL byte: no websocket and no port are needed. One
browser opens every page in turn, which is much faster than one `chromium --dump-dom` per page.
"""

import json
import os
import select
import shutil
import subprocess
import tempfile
import time


def chromium_path():
    """The Chromium executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(RuntimeError):
    """Chromium died, answered with an error or did not answer in time."""


class Browser:
    """One headless Chromium with one page (tab); use as a context manager."""

    def __init__(self, executable=None, timeout=60.0):
        self.executable = executable or chromium_path()
        if not self.executable:
            raise BrowserError("no chromium on PATH (Debian: apt-get install chromium)")
        self.timeout = timeout
        self.proc = None
        self.profile = None
        self.session = None
        self.events = []
        self._next_id = 0
        self._buffer = b""
        self._to_browser = self._from_browser = None

    def __enter__(self):
        self.profile = tempfile.mkdtemp(prefix="docs-chromium-")
        # Chromium reads commands on its fd 3 and writes on its fd 4.
        cmd_read, cmd_write = os.pipe()
        out_read, out_write = os.pipe()

        def _child_fds():
            os.dup2(cmd_read, 3)
            os.dup2(out_write, 4)

        args = [self.executable, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-sync", "--disable-component-update",
                "--user-data-dir=" + self.profile, "--window-size=1280,900", "about:blank"]
        # The preexec hook puts the pipe ends at 3 and 4; pass_fds keeps 3 and 4 open past close_fds, which runs after it.
        self.proc = subprocess.Popen(  # pylint: disable=subprocess-popen-preexec-fn,consider-using-with
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4, cmd_read, out_write), preexec_fn=_child_fds)
        os.close(cmd_read)
        os.close(out_write)
        self._to_browser, self._from_browser = cmd_write, out_read
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.call(domain, session=True)
        return self

    def __exit__(self, *exc):
        try:
            if self.proc and self.proc.poll() is None:
                try:
                    self.call("Browser.close", timeout=5)
                except BrowserError:
                    pass
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            for fd in (self._to_browser, self._from_browser):
                if fd is not None:
                    os.close(fd)
            shutil.rmtree(self.profile, ignore_errors=True)

    # ---- protocol --------------------------------------------------------
    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("no answer from chromium in time")
            ready = select.select([self._from_browser], [], [], left)[0]
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise BrowserError("chromium closed its DevTools pipe (exit %s)" % self.proc.poll())
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=False, timeout=None):
        """Send one command; keep the events that arrive meanwhile; return its result."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError("%s: %s" % (method, reply["error"].get("message")))
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, event in enumerate(self.events):
                if event["method"] == method:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    # ---- pages -----------------------------------------------------------
    def open(self, url):
        """Load url and wait for its load event; returns the errors the page raised (exceptions, console errors)."""
        self.events = []
        result = self.call("Page.navigate", {"url": url}, session=True)
        if result.get("errorText"):
            raise BrowserError("%s: %s" % (url, result["errorText"]))
        # A load event can be a leftover of the page before (a failed navigation still loads an error page):
        # wait until this URL's document is complete.
        deadline = time.monotonic() + self.timeout
        while True:
            self.wait_event("Page.loadEventFired", timeout=max(0.1, deadline - time.monotonic()))
            if self.evaluate("document.readyState === 'complete' && location.href") == url:
                break
        errors = []
        for event in self.events:
            params = event.get("params", {})
            if event["method"] == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                errors.append("exception: %s" % (details.get("exception", {}).get("description") or details.get("text")))
            elif event["method"] == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                errors.append("%s: %s %s" % (entry.get("source"), entry.get("text"), entry.get("url", "")))
            elif event["method"] == "Runtime.consoleAPICalled" and params.get("type") == "error":
                errors.append("console: %s" % " ".join(str(a.get("value", a.get("description"))) for a in params.get("args", [])))
        return errors

    def evaluate(self, expression):
        """The JSON value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
        if "exceptionDetails" in result:
            raise BrowserError("evaluate: %s" % result["exceptionDetails"].get("text"))
        return result["result"].get("value")
