#!/usr/bin/env python3
"""Scale-out figures on the mock cluster (docs/scale-out.md), with real vigild core processes.

  throughput: for K = 1, 2, 3 cores in one group over a 6-partition ingest topic, N events
              (600 hosts) produced by kcat once the group has settled; reports events/s from the
              first produced event to the last one counted in the incidents, and events per CPU
              second (the cores' user+system time over that interval, from /proc).
  takeover:   one core builds M incidents in one partition (M hosts, one event each, all keyed to
              one domain; --partitions P spreads them, each host its own domain), is killed with
              SIGKILL, and a second core takes the partitions over: reports the restore-and-load
              time the new owner logs (summed over partitions) and the time from its start until
              it lists all M incidents. The mock cluster keeps at most 5 MiB of (compressed)
              batches per partition (older ones are deleted, no compaction): with the changelog's
              zstd, about 250 000 incidents fit in one partition.
  standby:    (--standby-compare) the takeover of one partition of M incidents by a core that was
              in the group all along, once without and once with scaleout.standby_replicas: 1 (its
              warm copy applied up to the changelog's end when the owner is killed): changelog
              records the takeover restored, its restore-and-load time, and the time from the kill
              until the new owner lists all M (the dead session's 6 s timeout included).
  readside:   three cores, M incidents over 6 partitions (one event per host): how long after the
              owners hold them every core's read model holds all M, how long one core takes to
              page through all M in the API, and the median time of an acknowledge sent to the
              owner against one sent to a core that forwards it (--readside M; 0 skips).

Usage: benchmarks/scaleout/scaleout_bench.py BUILD_DIR [--events N] [--incidents M] [--cores 1,2,3]
"""
import argparse, json, os, re, signal, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def wait(cond, timeout, what, interval=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if cond(): return
        time.sleep(interval)
    raise SystemExit("timed out waiting for " + what)


class Core:
    def __init__(self, build, work, brokers, name, standby=0):
        self.dir = os.path.join(work, name); os.makedirs(self.dir)
        self.port = free_port()
        cfg = os.path.join(self.dir, "vigil.yaml")
        with open(cfg, "w") as f:
            f.write(f"""data_dir: {self.dir}/data
http: {{listen: 127.0.0.1:{self.port}}}
log: {{level: info}}
rules: {{files: [{ROOT}/config/rules.d/*.yaml]}}
kafka:
  brokers: "{brokers}"
  topics: [ingest]
  group: bench
  lag_interval: 200ms
  properties: {{session.timeout.ms: "6000", heartbeat.interval.ms: "500", topic.metadata.refresh.interval.ms: "1000"}}
scaleout: {{role: core, ingest_topic: ingest, changelog_topic: changelog, standby_replicas: {standby}}}
""")
        self.log = open(os.path.join(self.dir, "vigild.log"), "w")
        self.proc = subprocess.Popen([os.path.join(build, "daemon/vigild"), "--config", cfg], stdout=self.log, stderr=self.log)

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r: return r.read().decode()
        except Exception:
            return None

    def metric(self, series):
        text = self.get("/metrics") or ""
        m = re.search("^" + re.escape(series) + r" (\S+)$", text, re.M)
        return float(m.group(1)) if m else None

    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def counts(self):
        """Events and incidents of the partitions this core owns (every core lists all of them)."""
        events = incidents = 0; cursor = None
        while True:
            body = self.get("/api/v1/incidents?limit=1000" + (f"&cursor={cursor}" if cursor else ""))
            if body is None: return None
            j = json.loads(body)
            for i in j["incidents"]:
                if i.get("owner", self.url()) != self.url(): continue
                events += i["event_count"]; incidents += 1
            cursor = j.get("next_cursor")
            if cursor is None: return events, incidents
            if not isinstance(cursor, str): cursor = json.dumps(cursor)

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f: fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig); self.proc.wait(60)


def mock(build, work, topics):
    out = open(os.path.join(work, "mock.out"), "w+")
    proc = subprocess.Popen([os.path.join(build, "tests/connectors/kafka/mock_kafka_cluster")] + topics, stdout=out, stderr=out)
    wait(lambda: os.path.getsize(out.name) > 0, 20, "the mock cluster")
    return proc, open(out.name).readline().strip()


def produce(brokers, lines, work):
    path = os.path.join(work, "events.txt")
    with open(path, "w") as f: f.write("".join(lines))
    subprocess.run(["kcat", "-b", brokers, "-P", "-q", "-t", "ingest", "-K", "\t", "-l", path,
                    "-X", "linger.ms=50", "-X", "batch.num.messages=10000"], check=True)


def event(host, n):
    return '{"host":"%s","type":"disk","state":"problem","severity":"major","message":"n%d"}' % (host, n)


def throughput(build, k, n):
    work = tempfile.mkdtemp(prefix="vigil-scaleout-")
    mproc, brokers = mock(build, work, ["ingest:6", "changelog:6"])
    cores = [Core(build, work, brokers, f"core{i}") for i in range(k)]
    try:
        wait(lambda: sum(c.metric("vigil_scaleout_owned_partitions") or 0 for c in cores) == 6, 120, "the group")
        cpu0 = sum(c.cpu_seconds() for c in cores)
        start = time.time()
        produce(brokers, ["h%d\t%s\n" % (i % 600, event("h%d" % (i % 600), i)) for i in range(n)], work)
        def done():
            total = 0
            for c in cores:
                r = c.counts()
                if r is None: return False
                total += r[0]
            return total == n
        wait(done, 600, "all events counted")
        secs = time.time() - start
        cpu = sum(c.cpu_seconds() for c in cores) - cpu0
        print(f"cores={k} events={n} seconds={secs:.2f} events/s={n / secs:.0f} cpu_s={cpu:.2f} "
              f"events/cpu_s={n / cpu:.0f}", flush=True)
    finally:
        for c in cores: c.stop()
        mproc.terminate(); mproc.wait()


def takeover(build, m, partitions):
    work = tempfile.mkdtemp(prefix="vigil-takeover-")
    mproc, brokers = mock(build, work, [f"ingest:{partitions}", f"changelog:{partitions}"])
    a = Core(build, work, brokers, "a")
    # One domain in one partition; with more partitions every host is its own domain, spread.
    key = (lambda i: "site-1") if partitions == 1 else (lambda i: "h%d" % i)
    try:
        wait(lambda: a.metric("vigil_scaleout_owned_partitions") == partitions, 120, "core a's assignment")
        t0 = time.time()
        build_incidents(brokers, work, a, m, key)
        build_s = time.time() - t0
        a.stop(signal.SIGKILL)
        start = time.time()
        b = Core(build, work, brokers, "b")
        try:
            wait(lambda: b.metric("vigil_incidents_active") == m, 1800, f"{m} incidents on core b")
            visible = time.time() - start
            # b names itself the owner once its read model has read its own takeover marker.
            wait(lambda: b.counts() == (m, m), 120, f"core b listing {m} incidents as their owner", 0.5)
            restore = b.metric("vigil_scaleout_last_restore_seconds")
            restored = b.metric('vigil_scaleout_changelog_records_total{result="restored"}')
            took = [float(x) for x in re.findall(r"took over \S+ in ([0-9.]+) s", open(os.path.join(b.dir, "vigild.log")).read())]
            print(f"incidents={m} partitions={partitions} built_on_a_s={build_s:.1f} restored_records={restored:.0f} "
                  f"restore_and_load_s(sum over partitions)={sum(took):.2f} start_of_b_to_all_listed_s={visible:.1f} "
                  f"(includes the dead session's timeout, 6 s)", flush=True)
        finally:
            b.stop()
    finally:
        a.stop(signal.SIGKILL)
        mproc.terminate(); mproc.wait()


def build_incidents(brokers, work, core, m, key):
    """M incidents on `core` (one event per host), produced in chunks, each consumed before the next:
    one 100 000-message backlog stalls the consumer on the mock cluster after ~41 600 messages,
    standalone too (a Kafka source issue)."""
    chunk = 10000
    for first in range(0, m, chunk):
        last = min(m, first + chunk)
        produce(brokers, ["%s\t%s\n" % (key(i), event("h%d" % i, i)) for i in range(first, last)], work)
        # The gauge, not the API: paging through 100 000 incidents in a loop would be the load.
        wait(lambda: core.metric("vigil_incidents_active") == last, 600, f"{last} incidents on core {core.dir}", 0.5)


def standby_takeover(build, m, standby):
    """One partition of m incidents owned by a, b in the group all along (keeping a warm copy when
    standby > 0); a is killed with SIGKILL and b takes the partition over."""
    work = tempfile.mkdtemp(prefix="vigil-standby-")
    mproc, brokers = mock(build, work, ["ingest:1", "changelog:1"])
    a = Core(build, work, brokers, "a", standby)
    b = None
    try:
        wait(lambda: a.metric("vigil_scaleout_owned_partitions") == 1, 120, "core a's assignment")
        b = Core(build, work, brokers, "b", standby)
        wait(lambda: b.metric("vigil_scaleout_owned_partitions") == 0, 120, "core b")
        build_incidents(brokers, work, a, m, lambda i: "site-1")
        if standby:
            # Caught up: no lag, and nothing more applied for a second (a's last records may still
            # have been on their way to the changelog when its incidents were counted).
            seen = [None]
            def warm():
                now = (b.metric("vigil_scaleout_standby_partitions"), b.metric("vigil_scaleout_standby_lag_records"),
                       b.metric('vigil_scaleout_standby_records_total{result="applied"}'))
                settled = now == seen[0] and now[0] == 1 and now[1] == 0 and (now[2] or 0) > 0
                seen[0] = now
                return settled
            wait(warm, 600, "b's warm copy", 1.0)
        applied = b.metric('vigil_scaleout_standby_records_total{result="applied"}') or 0
        restored0 = b.metric('vigil_scaleout_changelog_records_total{result="restored"}') or 0
        a.stop(signal.SIGKILL)
        killed = time.time()
        wait(lambda: b.metric("vigil_incidents_active") == m, 1800, f"{m} incidents on core b")
        active_s = time.time() - killed
        wait(lambda: b.counts() == (m, m), 120, f"core b listing {m} incidents as their owner", 0.5)
        listed_s = time.time() - killed
        restored = (b.metric('vigil_scaleout_changelog_records_total{result="restored"}') or 0) - restored0
        took = [float(x) for x in re.findall(r"took over \S+ in ([0-9.]+) s", open(os.path.join(b.dir, "vigild.log")).read())]
        print(f"standby_replicas={standby} incidents={m} warm_copy_records_applied={applied:.0f} "
              f"takeover_restored_records={restored:.0f} restore_and_load_s={took[-1]:.2f} "
              f"kill_to_all_active_s={active_s:.1f} kill_to_all_listed_s={listed_s:.1f} "
              f"(includes the dead session's timeout, 6 s)", flush=True)
    finally:
        if b: b.stop()
        a.stop(signal.SIGKILL)
        mproc.terminate(); mproc.wait()


def readside(build, m):
    work = tempfile.mkdtemp(prefix="vigil-readside-")
    mproc, brokers = mock(build, work, ["ingest:6", "changelog:6"])
    cores = [Core(build, work, brokers, f"core{i}") for i in range(3)]
    try:
        wait(lambda: sum(c.metric("vigil_scaleout_owned_partitions") or 0 for c in cores) == 6, 120, "the group")
        produce(brokers, ["h%d\t%s\n" % (i, event("h%d" % i, i)) for i in range(m)], work)
        wait(lambda: sum(c.metric("vigil_incidents_active") or 0 for c in cores) == m, 600, "the owners' incidents", 0.05)
        owners_at = time.time()
        wait(lambda: all(c.metric("vigil_scaleout_read_model_incidents") == m for c in cores), 600,
             "every read model", 0.05)
        read_lag = time.time() - owners_at
        t0 = time.time(); listed = []; cursor = None
        while True:
            j = json.loads(cores[0].get("/api/v1/incidents?limit=1000" + (f"&cursor={cursor}" if cursor else "")))
            listed += j["incidents"]; cursor = j.get("next_cursor")
            if cursor is None: break
        list_s = time.time() - t0
        assert len(listed) == m, len(listed)
        def ack_ms(via, ids):
            times = []
            for i in ids:
                req = urllib.request.Request(f"{via.url()}/api/v1/incidents/{i}/ack", data=b"{}", method="POST",
                                             headers={"Content-Type": "application/json"})
                t = time.time()
                with urllib.request.urlopen(req, timeout=30) as r: assert r.status == 200
                times.append((time.time() - t) * 1000)
            return sorted(times)[len(times) // 2]
        own = [i["id"] for i in listed if i["owner"] == cores[1].url()][:50]
        other = [i["id"] for i in listed if i["owner"] == cores[0].url()][:50]
        local, forwarded = ack_ms(cores[1], own), ack_ms(cores[1], other)
        rss = []
        for c in cores:
            with open(f"/proc/{c.proc.pid}/status") as f:
                rss.append(int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) // 1024)
        print(f"readside incidents={m} read_models_complete_after_owners_s={read_lag:.2f} "
              f"list_all_via_api_s={list_s:.2f} ack_median_ms local={local:.1f} forwarded={forwarded:.1f} "
              f"(n={len(own)}/{len(other)}) rss_mb={rss}", flush=True)
    finally:
        for c in cores: c.stop()
        mproc.terminate(); mproc.wait()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build"); p.add_argument("--events", type=int, default=60000)
    p.add_argument("--incidents", type=int, default=100000); p.add_argument("--cores", default="1,2,3")
    p.add_argument("--partitions", type=int, default=1, help="takeover: partitions the incidents are spread over")
    p.add_argument("--skip-takeover", action="store_true"); p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--readside", type=int, default=20000, help="incidents for the read-side figures (0: skip)")
    p.add_argument("--standby-compare", action="store_true",
                   help="takeover of one partition of --incidents by a core in the group, without and with a standby")
    args = p.parse_args()
    if not args.skip_throughput:
        for k in [int(x) for x in args.cores.split(",")]: throughput(args.build, k, args.events)
    if not args.skip_takeover: takeover(args.build, args.incidents, args.partitions)
    if args.standby_compare:
        for standby in (0, 1): standby_takeover(args.build, args.incidents, standby)
    if args.readside: readside(args.build, args.readside)


if __name__ == "__main__":
    main()
