"""Shared pieces of the `riptide serve` acceptance scripts in tools/server/.

Each script starts its own server(s) with `Server(...)` (on a free port, `--port 0`, the port read
from the ready line), runs named cases with `Suite`, and exits non-zero when one fails. Every
server (and any other child registered with `track`) is killed when the script ends, however it
ends (normal exit, exception, SIGINT/SIGTERM).

    from harness import Server, Suite, parse_args
    args = parse_args(__doc__)
    suite = Suite("test_x")
    with Server(args.riptide, "--enable-test-hooks") as srv:
        @suite.case("chat")
        def _():
            ...
    suite.exit()
"""
import argparse
import atexit
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TOKENIZER_JSON = os.path.join(REPO, "Sources", "RiptideTokenizer", "Resources", "tokenizer.json")
DEFAULT_RIPTIDE = os.path.join(REPO, ".build", "release", "riptide")
READY = re.compile(r"riptide serve: ready at (http://\S+) \(model (.+)\)")

BOS, EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"
USER, ASSISTANT = "<｜User｜>", "<｜Assistant｜>"
THINK, THINK_END, DSML = "<think>", "</think>", "｜DSML｜"

_children = []  # Popen objects to kill at exit
_servers = []  # Server objects, for their logs when a case fails


def track(proc):
    _children.append(proc)
    return proc


def _kill_all():
    for p in _children:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=10)
            except Exception:
                pass


atexit.register(_kill_all)


def _on_signal(signum, _frame):
    _kill_all()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def parse_args(doc, extra=None):
    """--riptide PATH (default: the release build) plus whatever `extra(parser)` adds."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--riptide", default=os.environ.get("RIPTIDE", DEFAULT_RIPTIDE), help="the riptide binary")
    if extra:
        extra(p)
    args = p.parse_args()
    args.riptide = os.path.abspath(args.riptide)
    if not os.access(args.riptide, os.X_OK):
        p.error(f"{args.riptide} is not an executable (build it, or pass --riptide PATH)")
    return args


def free_port():
    """A port that was free a moment ago (for programs that cannot take port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `riptide serve` child on 127.0.0.1 and a free port.

    `url`, `port` and `model` are known once `start()` (or `with`) returns, after the ready line
    and a 200 from /health. stderr goes to a log file, whose tail is shown if the start fails and
    by `log_tail()`. `stop()` sends SIGTERM (the drain) and returns the exit status, killing the
    process if it outlives `timeout`.
    """

    def __init__(self, riptide, *args, env=None, name="riptide", start_timeout=180):
        self.cmd = [riptide, "serve", "--host", "127.0.0.1", "--port", "0", *map(str, args)]
        self.env = dict(os.environ, **(env or {}))
        self.name = name
        self.start_timeout = start_timeout
        self.proc = None
        self.url = self.port = self.model = None
        self.stdout_lines = []
        self._ready = threading.Event()
        fd, self.log_path = tempfile.mkstemp(prefix=f"{name}-", suffix=".log")
        os.close(fd)

    def start(self):
        self._log = open(self.log_path, "wb")
        self.proc = track(subprocess.Popen(
            self.cmd, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL, env=self.env))
        _servers.append(self)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        deadline = time.time() + self.start_timeout
        while not self._ready.wait(0.1):
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} before it was ready:\n{self.log_tail()}")
            if time.time() > deadline:
                raise RuntimeError(f"{self.name} printed no ready line in {self.start_timeout} s:\n{self.log_tail()}")
        while True:
            try:
                if http_get(self.url + "/health", timeout=5)[0] == 200:
                    return self
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"{self.name}: /health never answered 200:\n{self.log_tail()}")
            time.sleep(0.1)

    def _read_stdout(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.stdout_lines.append(line)
            m = READY.search(line)
            if m and not self._ready.is_set():
                self.url, self.model = m.group(1), m.group(2)
                self.port = int(self.url.rsplit(":", 1)[1])
                self._ready.set()

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        """The exit status, or None if it is still running after `timeout` seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=60):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.remove_log()

    def remove_log(self):
        try:
            os.unlink(self.log_path)
        except OSError:
            pass

    # Small conveniences.
    def get(self, path, timeout=30):
        return http_get(self.url + path, timeout=timeout)

    def post(self, path, body, timeout=120, headers=None):
        return http_post(self.url + path, body, timeout=timeout, headers=headers)

    def metrics(self):
        status, text = self.get("/metrics")
        assert status == 200, f"/metrics answered {status}"
        return parse_metrics(text)


def http_get(url, timeout=30, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def http_post(url, body, timeout=120, headers=None):
    data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def parse_metrics(text):
    """{sample name: {frozenset(labels): value}} read with Prometheus's own parser."""
    from prometheus_client.parser import text_string_to_metric_families
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, {})[frozenset(s.labels.items())] = s.value
    return out


def metric(samples, name, **labels):
    """The one value of `name` whose labels include `labels` (summed if several match)."""
    series = samples.get(name)
    assert series, f"/metrics has no {name}"
    want = set(labels.items())
    vals = [v for k, v in series.items() if want <= set(k)]
    assert vals, f"/metrics has no {name} with labels {labels}"
    return sum(vals)


_tokenizer = None


def tokenizer():
    """HF `tokenizers` on the bundled DeepSeek-V4 tokenizer.json (special tokens matched in text)."""
    global _tokenizer
    if _tokenizer is None:
        from tokenizers import Tokenizer
        _tokenizer = Tokenizer.from_file(TOKENIZER_JSON)
    return _tokenizer


def encode(text):
    ids = tokenizer().encode(text, add_special_tokens=False).ids
    back = tokenizer().decode(ids, skip_special_tokens=False)
    assert back == text, f"tokenizer round trip failed: {text!r} -> {back!r}"
    return ids


def wait_until(predicate, timeout, interval=0.1, what="condition"):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Suite:
    """Named cases: each runs, prints ok/FAIL with its time, and a failure does not stop the rest."""

    def __init__(self, name):
        self.name = name
        self.passed, self.failed = [], []
        self.start = time.time()
        print(f"== {name}", flush=True)

    def case(self, title, known_issue=None):
        """Runs `fn` at once. With `known_issue` (a server bug reported, not yet fixed) a failure
        prints XFAIL and does not fail the suite, and a pass prints XPASS (drop the marker)."""
        def run(fn):
            t = time.time()
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - report and go on
                detail = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-3:])
                if known_issue:
                    self.passed.append(title)
                    print(f"  XFAIL {title} ({time.time() - t:.1f} s), known server issue: {known_issue}\n"
                          f"        {e}", flush=True)
                else:
                    self.failed.append(title)
                    print(f"  FAIL {title} ({time.time() - t:.1f} s): {e}\n{detail}", flush=True)
                    for srv in _servers:
                        if srv.proc is not None and srv.proc.poll() is None:
                            print(f"  --- last lines of {srv.name}'s log ---\n{srv.log_tail(15)}", flush=True)
            else:
                self.passed.append(title)
                mark = " XPASS: the known issue is fixed, drop known_issue=" if known_issue else ""
                print(f"  ok   {title} ({time.time() - t:.1f} s){mark}", flush=True)
            return fn
        return run

    def exit(self):
        took = time.time() - self.start
        verdict = "FAILED" if self.failed else "OK"
        print(f"== {self.name}: {verdict}, {len(self.passed)} cases ok and {len(self.failed)} failing in {took:.1f} s",
              flush=True)
        _kill_all()
        sys.exit(1 if self.failed else 0)


def expect_equal(got, want, what):
    assert got == want, f"{what}: got {got!r}, want {want!r}"
