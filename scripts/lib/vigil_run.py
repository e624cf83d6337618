"""Shared helpers for the reliability scripts (soak, crash-trials, full-disk trial).

They run the real vigild binary on free loopback ports with a config written into a work dir,
talk to it over plain HTTP (http.client) and read its /metrics. Standard library only.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_vigild(root, build_dir=None):
    candidates = [build_dir] if build_dir else [os.path.join(root, "build")]
    for d in candidates:
        path = os.path.join(d, "daemon", "vigild")
        if os.access(path, os.X_OK):
            return path
    raise SystemExit(f"vigild not found under {candidates}: build it first (cmake --build build --target vigild)")


class Vigild:
    """One vigild process on a config in `work_dir`; restartable on the same data dir."""

    def __init__(self, binary, work_dir, data_dir=None, extra_yaml="", http_extra="", syslog_extra="", env=None):
        self.binary = binary
        self.env = env  # extra environment of the vigild process (e.g. LD_PRELOAD)
        self.work_dir = work_dir
        os.makedirs(work_dir, exist_ok=True)
        self.data_dir = data_dir or os.path.join(work_dir, "data")
        self.http_port = free_port()
        self.syslog_port = free_port()
        self.config_path = os.path.join(work_dir, "vigil.yaml")
        self.log_path = os.path.join(work_dir, "vigild.log")
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(self.config_path, "w") as f:
            f.write(f"data_dir: {self.data_dir}\n"
                    "log: {level: info}\n"
                    f"http:\n  listen: 127.0.0.1:{self.http_port}\n  rate_limit: {{requests_per_second: 0}}\n{http_extra}"
                    f"syslog:\n  listen: [tcp://127.0.0.1:{self.syslog_port}]\n{syslog_extra}"
                    f"rules: {{files: [{root}/config/rules.d/*.yaml]}}\n{extra_yaml}")
        self.process = None

    def start(self, timeout=60):
        log = open(self.log_path, "a")
        self.process = subprocess.Popen([self.binary, "--config", self.config_path], stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        env={**os.environ, **self.env} if self.env else None)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if self.get("/readyz")[0] == 200:
                return True
            time.sleep(0.05)
        return False

    def kill(self, sig=signal.SIGKILL):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=60) if self.process else None

    def running(self):
        return self.process is not None and self.process.poll() is None

    def pid(self):
        return self.process.pid if self.process else None

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            return 0, b""
        finally:
            conn.close()

    def get(self, path, timeout=30):
        return self.request("GET", path, timeout=timeout)

    def post_events(self, events, timeout=30):
        return self.request("POST", "/api/v1/events", json.dumps(events),
                            {"Content-Type": "application/json"}, timeout=timeout)

    def metrics(self):
        """{name: summed value over all label sets}, plus {name{labels}: value} for every series."""
        status, body = self.get("/metrics")
        if status != 200:
            return None
        values = {}
        for line in body.decode("utf-8", "replace").splitlines():
            if not line or line.startswith("#"):
                continue
            series, _, value = line.rpartition(" ")
            try:
                v = float(value)
            except ValueError:
                continue
            values[series] = v
            if "{" in series:  # also the sum over the label sets, under the bare name
                name = series.split("{", 1)[0]
                values[name] = values.get(name, 0.0) + v
        return values

    def incidents(self, query=""):
        """Every incident the API lists (all pages), or None when it does not answer."""
        out, cursor = [], None
        while True:
            path = "/api/v1/incidents?limit=1000" + (f"&{query}" if query else "") + (f"&cursor={cursor}" if cursor else "")
            status, body = self.get(path)
            if status != 200:
                return None
            page = json.loads(body)
            out.extend(page["incidents"])
            cursor = page.get("next_cursor")
            if not cursor:
                return out


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None
