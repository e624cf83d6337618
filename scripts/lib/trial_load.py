"""What the trial clients send and know, shared by scripts/crash-trials and scripts/power-loss-trials.

HTTP senders POST /api/v1/events (one event per request, host crash-hN, type trial, state
problem) and record every 202 -- "committed" -- per incident key; a syslog sender streams Cisco
link-down lines over TCP (not acknowledged: at most once). check() compares that ledger with the
incidents vigild lists.
"""

import collections
import http.client
import json
import random
import socket
import threading
import time


class Ledger:
    """What the clients know: per key, events acknowledged (202) and events in doubt."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = collections.Counter()
        self.in_doubt = collections.Counter()
        self.refused = 0  # connection refused: vigild was down, nothing was sent
        self.syslog_sent = collections.Counter()

    def snapshot(self):
        with self.lock:
            return sum(self.acked.values()), sum(self.in_doubt.values()), self.refused


def http_sender(vigild, ledger, keys, rng_seed, stop):
    rng = random.Random(rng_seed)
    n = 0
    while not stop.is_set():
        host = f"crash-h{rng.randrange(keys)}"
        key = f"{host}/trial"
        body = json.dumps({"host": host, "type": "trial", "state": "problem", "severity": "major",
                           "message": f"event {rng_seed}-{n}"})
        n += 1
        conn = http.client.HTTPConnection("127.0.0.1", vigild.http_port, timeout=30)
        try:
            conn.request("POST", "/api/v1/events", body=body, headers={"Content-Type": "application/json"})
            status = conn.getresponse().status
        except ConnectionRefusedError:
            with ledger.lock:
                ledger.refused += 1
            time.sleep(0.02)
            continue
        except (OSError, http.client.HTTPException):
            status = 0  # sent, no answer: vigild died with it in flight
        finally:
            conn.close()
        with ledger.lock:
            if status == 202:
                ledger.acked[key] += 1
            else:
                ledger.in_doubt[key] += 1


def syslog_sender(vigild, ledger, keys, stop):
    n = 0
    sock = None
    while not stop.is_set():
        if sock is None:
            try:
                sock = socket.create_connection(("127.0.0.1", vigild.syslog_port), timeout=5)
            except OSError:
                time.sleep(0.05)
                continue
        host = f"crash-sw{n % keys}"
        line = (f"<187>1 2026-01-01T00:00:00Z {host} ios - - - %LINK-3-UPDOWN: Interface "
                f"GigabitEthernet0/1, changed state to down\n").encode()
        try:
            sock.sendall(line)
            with ledger.lock:
                ledger.syslog_sent[f"{host}/link/GigabitEthernet0/1"] += 1
            n += 1
        except OSError:
            sock.close()
            sock = None
            continue
        time.sleep(0.002)
    if sock:
        sock.close()


def check(incidents, ledger):
    """Problems found (strings); empty when every promise held."""
    problems = []
    by_key = collections.defaultdict(list)
    for incident in incidents:
        by_key[incident["key"]].append(incident)
    for key, found in by_key.items():
        if len(found) > 1:
            problems.append(f"{key}: {len(found)} incidents (ids {[i['id'] for i in found]})")
    with ledger.lock:
        for key in set(ledger.acked) | set(ledger.in_doubt):
            acked, doubt = ledger.acked[key], ledger.in_doubt[key]
            counted = sum(i["event_count"] for i in by_key.get(key, []))
            if counted < acked:
                problems.append(f"{key}: {acked} acknowledged but {counted} counted (LOST)")
            elif counted > acked + doubt:
                problems.append(f"{key}: counted {counted} > {acked} acknowledged + {doubt} in doubt (DUPLICATED)")
        for key, sent in ledger.syslog_sent.items():
            counted = sum(i["event_count"] for i in by_key.get(key, []))
            if counted > sent:
                problems.append(f"{key}: syslog counted {counted} > {sent} sent (DUPLICATED)")
    return problems
