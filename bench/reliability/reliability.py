#!/usr/bin/env python3
"""PulseCart Consumer reliability scenarios: crash, Redis outage, sink outage, reminder crash.

Run by bench/reliability/run.sh, which builds the consumer once and calls this once per scenario. Standard library
only. This driver starts and stops its own redis-server and consumer processes (so that it can kill them at the right
moment), writes their pids to --pidfile for run.sh's trap, pushes wrapped Pub/Sub envelopes the way a push
subscription would (a message not answered with 2xx is delivered again) and checks what the consumer did.

    reliability.py crash|redis-outage|sink-outage|reminder-crash --app DIR --work DIR --pidfile FILE

Prints the figures, then "PASS" or one "FAIL ..." line per wrong figure; exits 1 when a figure is wrong.
"""

import argparse
import base64
import collections
import concurrent.futures
import datetime
import heapq
import http.client
import http.server
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

SUBSCRIPTION = "projects/pulsecart-local/subscriptions/pulsecart-consumer"
HANG_LIMIT_S = 10.0          # no push may take longer than this (scenario 2's bound)
CLIENT_TIMEOUT_S = 30.0      # the pusher gives up on one request after this (Pub/Sub's ack deadline is 10-600 s)
ACKED = range(200, 300)      # Pub/Sub acknowledges 102, 200, 201, 202 and 204; the consumer only answers 204


def log(text):
    print(f"   {text}", flush=True)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S.%f")[:-3]


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


HANDED_OUT_PORTS = set()


def free_port():
    """A free loopback port not handed out before in this run: the kernel may give a port it just released again."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in HANDED_OUT_PORTS:
            HANDED_OUT_PORTS.add(port)
            return port


# ---- processes -------------------------------------------------------------------------------------------------------

class Processes:
    """Every process this driver starts, by name; the pid file lets run.sh's trap stop them if this driver dies."""

    def __init__(self, app, work, pidfile):
        self.app, self.work, self.pidfile = app, work, pidfile
        self.procs = {}
        self.starts = collections.Counter()
        self.apphost = os.path.join(app, "pulsecart-reliability-consumer")
        self.dotnet_root = os.path.dirname(os.path.realpath(subprocess.run(
            ["bash", "-c", "command -v dotnet"], capture_output=True, text=True, check=True).stdout.strip()))

    def _save(self):
        with open(self.pidfile, "w", encoding="utf-8") as out:
            out.writelines(f"{proc.pid}\n" for proc in self.procs.values() if proc.poll() is None)

    def _start(self, name, argv, env=None, cwd=None):
        self.starts[name] += 1
        path = os.path.join(self.work, f"{name}-{self.starts[name]}.log")
        with open(path, "wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                    start_new_session=True)
        self.procs[name] = proc
        self._save()
        return proc

    def redis(self, name, port, directory, durable):
        """redis-server on loopback; durable: AOF with fsync on every write, so a SIGKILL loses nothing acknowledged."""
        os.makedirs(directory, exist_ok=True)
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", directory, "--save", ""]
        argv += ["--appendonly", "yes", "--appendfsync", "always"] if durable else ["--appendonly", "no"]
        proc = self._start(name, argv)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if redis_cli(port, "ping") == "PONG":
                return proc
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit(f"redis-server {name} on {port} did not start; see {self.work}/{name}-{self.starts[name]}.log")

    def consumer(self, name, port, settings):
        env = dict(os.environ)
        env.update({
            "DOTNET_ROOT": self.dotnet_root,
            "ASPNETCORE_ENVIRONMENT": "Development",   # /ops open to loopback callers
            "PulseCart__Auth__Mode": "None",
            "PORT": str(port),
            "Logging__LogLevel__Default": "Warning",
        })
        env.update({key: str(value) for key, value in settings.items()})
        return self._start(name, [self.apphost], env=env, cwd=self.app)

    def wait_ready(self, name, port, timeout=90.0):
        """Seconds until GET /health/ready answered 200."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited with {proc.returncode} before it was ready; "
                                 f"see {self.work}/{name}-{self.starts[name]}.log")
            status, _, _, _ = request(port, "GET", "/health/ready", timeout=5)
            if status == 200:
                return time.monotonic() - started
            time.sleep(0.1)
        raise SystemExit(f"{name} not ready after {timeout:.0f} s; see {self.work}/{name}-{self.starts[name]}.log")

    def kill9(self, name):
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self._save()

    def stop(self, name):
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._save()

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)


class Stack:
    """One scenario's redis-server and consumer on free loopback ports. Either can be killed and started again: on the
    same ports, the consumer with the same settings, the redis-server on the same directory."""

    def __init__(self, procs, work, name, settings, durable=False):
        self.procs, self.durable = procs, durable
        self.redis_name, self.consumer_name = f"{name}-redis", f"{name}-consumer"
        self.redis_dir = os.path.join(work, self.redis_name)
        self.redis_port, self.port, self.silo, self.gateway = free_port(), free_port(), free_port(), free_port()
        self.settings = {"PulseCart__Redis": f"127.0.0.1:{self.redis_port}", "PulseCart__Cluster__SiloPort": self.silo,
                         "PulseCart__Cluster__GatewayPort": self.gateway, **settings}

    def start(self):
        """Seconds until the consumer was ready, Redis started first."""
        self.start_redis()
        return self.start_consumer()

    def start_redis(self):
        self.procs.redis(self.redis_name, self.redis_port, self.redis_dir, self.durable)

    def start_consumer(self):
        """Seconds until the consumer was ready."""
        self.procs.consumer(self.consumer_name, self.port, self.settings)
        return self.procs.wait_ready(self.consumer_name, self.port)

    def kill9_redis(self):
        self.procs.kill9(self.redis_name)

    def kill9_consumer(self):
        self.procs.kill9(self.consumer_name)


def redis_cli(port, *args):
    try:
        return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--raw", *args],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except subprocess.TimeoutExpired:
        return ""


def reminder_tasks(redis_port):
    """Task names in the embedded Cloud Tasks emulator's Redis store."""
    return {line for line in redis_cli(redis_port, "hkeys", "pulsecart:cloudtasks:tasks").splitlines() if line}


# ---- HTTP -------------------------------------------------------------------------------------------------------------

_connections = threading.local()


def request(port, method, path, body=None, timeout=CLIENT_TIMEOUT_S):
    """(status, headers, body bytes, seconds); status 0 when no HTTP answer came (refused, reset, timeout)."""
    pool = _connections.__dict__.setdefault("pool", {})
    started = time.monotonic()
    conn = pool.get(port)
    if conn is None or conn.timeout != timeout:
        conn = pool[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        response = conn.getresponse()
        data = response.read()
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            pool.pop(port, None)
        return response.status, response.headers, data, time.monotonic() - started
    except (OSError, http.client.HTTPException):
        conn.close()
        pool.pop(port, None)
        return 0, None, b"", time.monotonic() - started


def metric(port, name, label):
    """A counter from /metrics (Prometheus text), summed by one label."""
    _, _, data, _ = request(port, "GET", "/metrics")
    totals = collections.Counter()
    for line in data.decode(errors="replace").splitlines():
        if line.startswith(name + "{"):
            labels, _, value = line.rpartition(" ")
            found = [part.split("=", 1)[1].strip('"') for part in labels[len(name) + 1:-1].split(",")
                     if part.split("=", 1)[0] == label]
            totals[found[0] if found else ""] += float(value)
    return {key: int(value) for key, value in sorted(totals.items())}


def get_json(port, path):
    status, _, data, _ = request(port, "GET", path)
    return status, (json.loads(data) if status == 200 else None)


# ---- Pub/Sub-like delivery --------------------------------------------------------------------------------------------

class Message:
    """One Pub/Sub message: a fixed messageId and body, delivered until acknowledged."""

    _ids = itertools.count(1)

    def __init__(self, event, kind):
        self.event = event
        self.kind = kind
        self.message_id = str(next(Message._ids))
        data = base64.b64encode(json.dumps(event).encode()).decode()
        self.body = json.dumps({"message": {"data": data, "messageId": self.message_id, "message_id": self.message_id,
                                            "publishTime": event["occurred_at"]},
                                "subscription": SUBSCRIPTION}).encode()
        self.attempts = []        # (start, end, status, outcome, round) on the driver's monotonic clock
        self.acked_at = None
        self.given_up = False

    @property
    def event_id(self):
        return self.event["event_id"]

    def acked_in(self, round_name):
        return any(status in ACKED for _, _, status, _, r in self.attempts if r == round_name)

    def outcomes(self, round_name=None):
        return [outcome for _, _, status, outcome, r in self.attempts
                if status in ACKED and (round_name is None or r == round_name)]


class Pusher:
    """Pushers working through a schedule of (offset seconds, message). A message not acknowledged is put back with
    a backoff (0.25 s doubling to 4 s) until max_attempts or patience runs out, while the next messages keep coming,
    as a push subscription delivers new messages while it retries failed ones."""

    def __init__(self, port, workers, round_name, max_attempts=None, patience=120.0):
        self.port, self.workers, self.round = port, workers, round_name
        self.max_attempts, self.patience = max_attempts, patience
        self.lock = threading.Condition()
        self.acked = 0
        self.attempts = 0

    def run(self, schedule):
        heap = []
        seq = itertools.count()
        start = time.monotonic()
        for offset, message in schedule:
            heapq.heappush(heap, (start + offset, next(seq), message, 1, start + offset))
        in_flight = [0]

        def worker():
            while True:
                with self.lock:
                    while True:
                        if not heap:
                            if in_flight[0] == 0:
                                self.lock.notify_all()
                                return
                            self.lock.wait(0.1)
                            continue
                        due = heap[0][0]
                        now = time.monotonic()
                        if due > now:
                            self.lock.wait(due - now)
                            continue
                        _, _, message, attempt, first_due = heapq.heappop(heap)
                        in_flight[0] += 1
                        break
                t0 = time.monotonic()
                status, headers, _, _ = request(self.port, "POST", "/consumer/push", message.body)
                t1 = time.monotonic()
                outcome = headers.get("X-PulseCart-Outcome") if headers else None
                with self.lock:
                    message.attempts.append((t0, t1, status, outcome, self.round))
                    self.attempts += 1
                    if status in ACKED:
                        self.acked += 1
                        if message.acked_at is None:
                            message.acked_at = t1
                    elif (self.max_attempts is None or attempt < self.max_attempts) and t1 - first_due < self.patience:
                        backoff = min(0.25 * 2 ** (attempt - 1), 4.0) * random.uniform(0.8, 1.2)
                        heapq.heappush(heap, (t1 + backoff, next(seq), message, attempt + 1, first_due))
                    elif self.max_attempts is None:
                        message.given_up = True
                    in_flight[0] -= 1
                    self.lock.notify_all()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.workers)]
        for thread in threads:
            thread.start()
        return threads

    def run_and_wait(self, schedule):
        for thread in self.run(schedule):
            thread.join()


def attempts_in(messages, round_name=None):
    return [a for m in messages for a in m.attempts if round_name is None or a[4] == round_name]


def answer_counts(attempts):
    return dict(sorted(collections.Counter(str(status) if status else "no answer" for _, _, status, _, _ in attempts).items()))


def outcome_counts(attempts):
    return dict(sorted(collections.Counter(o or "?" for _, _, s, o, _ in attempts if s in ACKED).items()))


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# ---- events -----------------------------------------------------------------------------------------------------------

class Plan:
    """Event ids carry the scenario and run, so no two runs share a key."""

    def __init__(self, scenario, run):
        self.prefix = f"{scenario}-{run}"
        self.t0 = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(minutes=1)

    def event(self, event_type, event_id, seconds, user, payload):
        return {"event_id": f"{self.prefix}-{event_id}", "event_type": event_type, "event_version": 1,
                "occurred_at": iso(self.t0 + datetime.timedelta(seconds=seconds)), "source": "reliability",
                "user_id": f"u-{self.prefix}-{user}", "payload": payload}

    def order(self, i):
        return f"o-{self.prefix}-{i}"

    def order_cart(self, i):
        return f"oc-{self.prefix}-{i}"

    def cart(self, i):
        return f"c-{self.prefix}-{i}"

    def placed(self, i):
        return Message(self.event("order.placed", f"op-{i}", 0, i, {
            "order_id": self.order(i), "cart_id": self.order_cart(i), "total": 59.97, "currency": "EUR"}), "placed")

    def payment_failed(self, i):
        return Message(self.event("payment.failed", f"pf-{i}", 5, i, {"order_id": self.order(i)}), "payment")

    def updated(self, i):
        return Message(self.event("cart.updated", f"cu-{i}", 0, i, {"cart_id": self.cart(i)}), "updated")

    def abandoned(self, i):
        return Message(self.event("cart.abandoned", f"ca-{i}", 1, i, {
            "cart_id": self.cart(i), "total": 19.99, "currency": "EUR"}), "abandoned")


def read_messages(path):
    """Message lines of the file sink; a line that is not JSON (a torn write) is counted, not parsed."""
    lines, torn = [], 0
    try:
        with open(path, encoding="utf-8") as sink:
            for line in sink:
                if not line.strip():
                    continue
                try:
                    lines.append(json.loads(line))
                except json.JSONDecodeError:
                    torn += 1
    except FileNotFoundError:
        pass
    return lines, torn


def parallel(function, items, workers=8):
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def check_effects(port, redis_port, plan, messages, failures):
    """Every event's effect, read back through /ops from the grains (and the reminder tasks from Redis)."""
    placed = sorted({int(m.event_id.rsplit("-", 1)[1]) for m in messages if m.kind == "placed"})
    carts = sorted({int(m.event_id.rsplit("-", 1)[1]) for m in messages if m.kind in ("updated", "abandoned")})
    abandoned = {int(m.event_id.rsplit("-", 1)[1]) for m in messages if m.kind == "abandoned"}
    payments = {int(m.event_id.rsplit("-", 1)[1]) for m in messages if m.kind == "payment"}

    def order_ok(i):
        status, order = get_json(port, f"/ops/orders/{plan.order(i)}")
        keys = {entry["idempotency_key"] for entry in (order or {}).get("messages", [])}
        if status != 200 or f"order_confirmation:{plan.order(i)}" not in keys:
            return f"{plan.order(i)}: order view {status}, messages {sorted(keys)}"
        if i in payments and f"payment_retry:{plan.prefix}-pf-{i}" not in keys:
            return f"{plan.order(i)}: no payment_retry recorded"
        status, cart = get_json(port, f"/ops/carts/{plan.order_cart(i)}")
        if status != 200 or cart["status"] != "purchased" or cart.get("purchase_order_id") != plan.order(i):
            return f"{plan.order_cart(i)}: cart view {status} {cart and cart.get('status')}"
        return None

    def cart_ok(i):
        status, cart = get_json(port, f"/ops/carts/{plan.cart(i)}")
        if status != 200:
            return f"{plan.cart(i)}: cart view {status}"
        reminder = cart.get("reminder") or {}
        if i in abandoned:
            if cart["status"] != "abandoned" or reminder.get("status") not in ("scheduled", "sent") \
                    or reminder.get("abandon_event_id") != f"{plan.prefix}-ca-{i}":
                return f"{plan.cart(i)}: {cart['status']}, reminder {reminder}"
            return ("task", reminder.get("task_name")) if reminder.get("status") == "scheduled" else None
        if cart["status"] != "active":
            return f"{plan.cart(i)}: {cart['status']}, expected active"
        return None

    results = parallel(order_ok, placed) + parallel(cart_ok, carts)
    expected_tasks = {r[1] for r in results if isinstance(r, tuple)}
    wrong = [r for r in results if isinstance(r, str)]
    tasks = reminder_tasks(redis_port) if expected_tasks else set()
    missing_tasks = sorted(expected_tasks - tasks)
    log(f"effects read back through /ops: {len(placed)} orders (+{len(payments)} payment failures) and their carts, "
        f"{len(carts)} carts ({len(abandoned)} abandoned); wrong or missing: {len(wrong)}; "
        f"reminder tasks in the store for abandoned carts: {len(expected_tasks) - len(missing_tasks)}/{len(expected_tasks)}")
    if wrong:
        failures.append(f"{len(wrong)} events without their effect: {wrong[:5]}")
    if missing_tasks:
        failures.append(f"{len(missing_tasks)} reminder tasks missing from the store: {missing_tasks[:3]}")


def message_keys(messages, plan):
    """idempotency key -> the Message that causes it (order confirmations and payment retries)."""
    keys = {}
    for m in messages:
        if m.kind == "placed":
            keys[f"order_confirmation:{m.event['payload']['order_id']}"] = m
        elif m.kind == "payment":
            keys[f"payment_retry:{m.event_id}"] = m
    return keys


def redeliver_sample(port, acked, fraction, round_name, failures, seed):
    """A random share of acknowledged messages delivered again: each must be answered 204 duplicate."""
    sample = random.Random(seed).sample(acked, int(len(acked) * fraction))
    Pusher(port, 8, round_name).run_and_wait([(0, m) for m in sample])
    outcomes = collections.Counter(m.outcomes(round_name)[0] if m.outcomes(round_name) else "not acknowledged"
                                   for m in sample)
    log(f"redelivered {len(sample)} acknowledged messages ({fraction:.0%}): answers {dict(sorted(outcomes.items()))}")
    if outcomes.get("duplicate", 0) != len(sample):
        failures.append(f"acknowledged messages redelivered were not all answered duplicate: {dict(outcomes)}")


# ---- scenario 1: kill -9 under load -----------------------------------------------------------------------------------

def scenario_crash(args, procs):
    orders, carts, workers = args.orders, args.carts, args.workers
    plan = Plan("crash", args.run)
    rng = random.Random(args.run)
    messages = [plan.placed(i) for i in range(orders)] + [plan.updated(i) for i in range(carts)] \
        + [plan.abandoned(i) for i in range(carts)]
    rng.shuffle(messages)
    sink = os.path.join(args.work, "crash-messages.jsonl")
    stack = Stack(procs, args.work, "crash", {"PulseCart__Messaging__Sink": "file", "PulseCart__Messaging__FilePath": sink})
    port, redis_port = stack.port, stack.redis_port
    ready = stack.start()
    log(f"redis :{redis_port}, consumer :{port} (silo {stack.silo}, gateway {stack.gateway}) ready in {ready:.1f} s")

    kill_after = int(len(messages) * args.kill_at)
    log(f"load: {len(messages)} events ({orders} order.placed, {carts} cart.updated, {carts} cart.abandoned), "
        f"{workers} pushers, each message delivered once; kill -9 when {kill_after} are acknowledged")
    pusher = Pusher(port, workers, "before", max_attempts=1)
    started = time.monotonic()
    threads = pusher.run([(0, m) for m in messages])
    while pusher.acked < kill_after and any(t.is_alive() for t in threads):
        time.sleep(0.002)
    killed_at = time.monotonic()
    stack.kill9_consumer()
    before_lines, torn_before = read_messages(sink)
    for thread in threads:
        thread.join()
    acked_before = [m for m in messages if m.acked_in("before")]
    unacked = [m for m in messages if not m.acked_in("before")]
    in_flight_at_kill = [m for m in unacked if m.attempts and m.attempts[0][0] < killed_at]
    rate = len(acked_before) / max(killed_at - started, 1e-9)
    log(f"killed at {killed_at - started:.2f} s: {len(acked_before)} acknowledged ({rate:.0f}/s), "
        f"{len(unacked)} not (of which {len(in_flight_at_kill)} in flight at the kill); "
        f"{len(before_lines)} message lines in the file at the kill")

    restart = stack.start_consumer()
    log(f"restarted (same Redis, same file, same ports): ready in {restart:.1f} s")

    # Pub/Sub redelivers what was not acknowledged, and may deliver acknowledged messages again too.
    Pusher(port, workers, "after").run_and_wait([(0, m) for m in unacked])
    after_outcomes = collections.Counter(m.outcomes("after")[0] if m.outcomes("after") else "never acknowledged"
                                         for m in unacked)
    log(f"redelivered the {len(unacked)} unacknowledged: answers {answer_counts(attempts_in(unacked, 'after'))}, "
        f"first acknowledgements by outcome {dict(sorted(after_outcomes.items()))} "
        f"(duplicate = done before the crash, its 204 lost with the process)")
    failures = []
    if after_outcomes.get("never acknowledged"):
        failures.append(f"{after_outcomes['never acknowledged']} messages never acknowledged after the restart")
    redeliver_sample(port, acked_before, 0.2, "sample", failures, args.run)

    # The file: every order confirmed exactly once, apart from a send whose acknowledgement died with the process.
    lines, torn = read_messages(sink)
    keys = message_keys(messages, plan)
    count = collections.Counter(line["idempotency_key"] for line in lines)
    count_before = collections.Counter(line["idempotency_key"] for line in before_lines)
    unexpected = sorted(set(count) - set(keys))
    lost = sorted(key for key in keys if count[key] == 0)
    lost_acked = [key for key in lost if keys[key].acked_in("before")]
    dup_after_ack, dup_crash_window, dup_unexplained = [], [], []
    for key, n in count.items():
        if n <= 1 or key not in keys:
            continue
        if keys[key].acked_in("before"):
            dup_after_ack.append(key)
        elif count_before[key] == 1 and n == 2:
            dup_crash_window.append(key)
        else:
            dup_unexplained.append(key)
    acked_not_in_file = [k for k, m in keys.items() if m.acked_in("before") and count_before[k] == 0]
    log(f"order confirmations in the file: expected {len(keys)}, distinct {len(set(count) & set(keys))}, lines {len(lines)}"
        f" (torn lines: {torn}); lost {len(lost)} (of them acknowledged before the crash: {len(lost_acked)})")
    log(f"duplicate sends: {len(dup_after_ack)} for orders acknowledged before the crash; "
        f"{len(dup_crash_window)} repeated sends whose 204 was lost in the crash "
        f"(sent and written to the file before the kill, not recorded in the grain, sent again on redelivery "
        f"with the same idempotency key); {len(dup_unexplained)} unexplained")
    log(f"acknowledged before the crash but not in the file at the kill: {len(acked_not_in_file)}")
    check_effects(port, redis_port, plan, messages, failures)

    if lost:
        failures.append(f"{len(lost)} orders without a confirmation: {lost[:5]}")
    if dup_after_ack:
        failures.append(f"{len(dup_after_ack)} orders acknowledged before the crash confirmed twice: {dup_after_ack[:5]}")
    if dup_unexplained:
        failures.append(f"{len(dup_unexplained)} duplicate confirmations not explained by the crash: {dup_unexplained[:5]}")
    if acked_not_in_file:
        failures.append(f"{len(acked_not_in_file)} acknowledged before their message reached the file: {acked_not_in_file[:5]}")
    if unexpected:
        failures.append(f"unexpected message keys: {unexpected[:5]}")
    if torn or torn_before:
        failures.append(f"{torn} torn lines in the message file")
    return failures


# ---- scenario 2: Redis down for 10 s under load -----------------------------------------------------------------------

def paced_units(plan, units, rate, builders, lag=2.0):
    """A schedule of `units` groups arriving at `rate` events/s; builders: (kind-builder, extra delay)."""
    per_unit = len(builders)
    schedule = []
    for u in range(units):
        base = u * per_unit / rate
        for build, delayed in builders:
            schedule.append((base + (lag if delayed else 0.0), build(u)))
    schedule.sort(key=lambda item: item[0])
    return schedule


def scenario_redis_outage(args, procs):
    plan = Plan("redis", args.run)
    workers = args.workers
    builders = [(plan.placed, False), (plan.updated, False), (plan.payment_failed, True), (plan.abandoned, True)]
    units = int(args.rate * args.load_seconds / len(builders))
    schedule = paced_units(plan, units, args.rate, builders)
    messages = [m for _, m in schedule]
    sink = os.path.join(args.work, "redis-messages.jsonl")
    stack = Stack(procs, args.work, "redis", {"PulseCart__Messaging__Sink": "file", "PulseCart__Messaging__FilePath": sink},
                  durable=True)
    port, redis_port = stack.port, stack.redis_port
    ready = stack.start()
    log(f"redis :{redis_port} (AOF, fsync always: the kill loses no write Redis acknowledged), consumer :{port} "
        f"ready in {ready:.1f} s")
    log(f"load: {len(messages)} events over {args.load_seconds:.0f} s ({args.rate:.0f}/s; order.placed, cart.updated, "
        f"then 2 s later payment.failed and cart.abandoned on the same, now active, grains), {workers} pushers, "
        f"redelivery until 204; redis-server killed at {args.outage_at:.0f} s for {args.outage:.0f} s")

    pusher = Pusher(port, workers, "load", patience=args.patience)
    started = time.monotonic()
    threads = pusher.run(schedule)
    time.sleep(max(0.0, started + args.outage_at - time.monotonic()))
    acked_at_kill = pusher.acked
    stack.kill9_redis()
    down_at = time.monotonic()
    time.sleep(args.outage)
    stack.start_redis()
    up_at = time.monotonic()
    for thread in threads:
        thread.join()
    done_at = time.monotonic()
    all_attempts = attempts_in(messages)
    during = [a for a in all_attempts if a[0] >= down_at and a[1] <= up_at]
    overlapping = [a for a in all_attempts if a[0] < up_at and a[1] > down_at]
    acked_during = [a for a in during if a[2] in ACKED]
    not_duplicate_during = [a for a in acked_during if a[3] != "duplicate"]
    latencies = [t1 - t0 for t0, t1, _, _, _ in all_attempts]
    slow = [l for l in latencies if l > HANG_LIMIT_S]
    first_processed = min((a[1] for a in all_attempts if a[0] >= up_at and a[2] in ACKED and a[3] == "processed"),
                          default=None)
    never = [m for m in messages if m.acked_at is None]
    log(f"{acked_at_kill} acknowledged before the kill; redis down {up_at - down_at:.1f} s")
    log(f"pushes started and answered while Redis was down: {len(during)}, answers {answer_counts(during)}; "
        f"204s among them by outcome {outcome_counts(during)}; pushes overlapping the outage: {len(overlapping)}, "
        f"answers {answer_counts(overlapping)}")
    log(f"push latency: p50 {percentile(latencies, 50) * 1000:.0f} ms, p99 {percentile(latencies, 99) * 1000:.0f} ms, "
        f"max {max(latencies):.2f} s (max while Redis was down: {max((a[1] - a[0] for a in overlapping), default=0):.2f} s); "
        f"over {HANG_LIMIT_S:.0f} s: {len(slow)}")
    log(f"after Redis returned: first 'processed' 204 after {first_processed - up_at:.1f} s; "
        f"all {len(messages) - len(never)}/{len(messages)} acknowledged {done_at - up_at:.1f} s after it returned "
        f"(run {done_at - started:.1f} s); {pusher.attempts} deliveries in all, answers {answer_counts(all_attempts)}"
        if first_processed else "after Redis returned: nothing was processed")
    for m in messages:
        for t0, t1, status, outcome, _ in m.attempts:
            if t1 - t0 > HANG_LIMIT_S:
                log(f"slow push: {m.event['event_type']} {m.event_id} started {t0 - down_at:+.1f} s from the kill, "
                    f"answered {status or 'nothing'} {outcome or ''} after {t1 - t0:.1f} s "
                    f"({t1 - up_at:+.1f} s from Redis's return)")
    by_type = collections.defaultdict(list)
    for m in messages:
        for a in m.attempts:
            if a[0] < up_at and a[1] > down_at:
                by_type[m.event["event_type"]].append(a[1] - a[0])
    log("pushes overlapping the outage by type (count, max s): "
        + ", ".join(f"{t} {len(v)}, {max(v):.1f}" for t, v in sorted(by_type.items())))
    failures = []
    if not_duplicate_during:
        failures.append(f"{len(not_duplicate_during)} pushes acknowledged as {outcome_counts(not_duplicate_during)} "
                        f"while Redis was down")
    if slow:
        failures.append(f"{len(slow)} pushes took longer than {HANG_LIMIT_S:.0f} s (max {max(slow):.1f} s)")
    if never:
        failures.append(f"{len(never)} messages never acknowledged within {args.patience:.0f} s of redelivery")

    # Read everything back from Redis through a fresh process, so nothing only held in memory counts.
    stack.kill9_consumer()
    restart = stack.start_consumer()
    log(f"consumer killed and restarted to read state back from Redis only: ready in {restart:.1f} s")
    redeliver_sample(port, [m for m in messages if m.acked_at], 0.2, "sample", failures, args.run)
    check_effects(port, redis_port, plan, messages, failures)

    lines, torn = read_messages(sink)
    keys = message_keys(messages, plan)
    count = collections.Counter(line["idempotency_key"] for line in lines)
    lost = sorted(key for key in keys if count[key] == 0)
    dup = {key: n for key, n in count.items() if n > 1}
    # A repeat is explained only when the first send's state write failed: the event then got a non-2xx answer.
    explained = {k for k in dup if k in keys and any(s not in ACKED for _, _, s, _, r in keys[k].attempts if r == "load")}
    unexplained = sorted(set(dup) - explained)
    by_kind = collections.Counter(keys[k].kind for k in explained)
    log(f"messages in the file: expected {len(keys)} keys, lines {len(lines)}, lost {len(lost)}; "
        f"keys sent more than once: {len(dup)} ({sum(dup.values()) - len(dup)} extra lines), of which "
        f"{len(explained)} after a failed state write (the send succeeded, Redis refused the write, the event got 503 "
        f"and was sent again with the same idempotency key: {dict(by_kind)}), {len(unexplained)} unexplained")
    if lost:
        failures.append(f"{len(lost)} messages lost: {lost[:5]}")
    if unexplained:
        failures.append(f"{len(unexplained)} keys sent more than once without a failed delivery: {unexplained[:5]}")
    if torn:
        failures.append(f"{torn} torn lines in the message file")
    if set(count) - set(keys):
        failures.append(f"unexpected message keys: {sorted(set(count) - set(keys))[:5]}")
    return failures


# ---- scenario 3: the webhook answers 503 for ~5 s ---------------------------------------------------------------------

class Webhook:
    """The messaging service: 503 for `outage` seconds from its first request, then 202. Records every request."""

    def __init__(self, outage):
        self.outage = outage
        self.first = None
        self.requests = []   # (time, idempotency key, status)
        self.lock = threading.Lock()
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                now = time.monotonic()
                with hook.lock:
                    if hook.first is None:
                        hook.first = now
                    status = 503 if now - hook.first < hook.outage else 202
                    hook.requests.append((now, self.headers.get("Idempotency-Key"), status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def scenario_sink_outage(args, procs):
    plan = Plan("sink", args.run)
    webhook = Webhook(args.outage)
    try:
        builders = [(plan.placed, False), (plan.payment_failed, True)]
        units = int(args.rate * args.load_seconds / len(builders))
        schedule = paced_units(plan, units, args.rate, builders)
        messages = [m for _, m in schedule]
        stack = Stack(procs, args.work, "sink", {"PulseCart__Messaging__Sink": "webhook",
                                                 "PulseCart__Messaging__WebhookUrl": f"http://127.0.0.1:{webhook.port}/messages"})
        port, redis_port = stack.port, stack.redis_port
        ready = stack.start()
        log(f"webhook :{webhook.port} (503 for the first {args.outage:.0f} s of requests, then 202), redis :{redis_port}, "
            f"consumer :{port} ready in {ready:.1f} s")
        log(f"load: {len(messages)} events over {args.load_seconds:.0f} s ({units} order.placed, {units} payment.failed "
            f"2 s later on the same orders), {args.workers} pushers, redelivery until 204")
        pusher = Pusher(port, args.workers, "load", patience=args.patience)
        started = time.monotonic()
        pusher.run_and_wait(schedule)
        done = time.monotonic()
        all_attempts = attempts_in(messages)
        outage_end = webhook.first + args.outage
        during = [a for a in all_attempts if a[1] <= outage_end]
        acked_during = [a for a in during if a[2] in ACKED]
        never = [m for m in messages if m.acked_at is None]
        latencies = [t1 - t0 for t0, t1, _, _, _ in all_attempts]
        log(f"pushes answered while the webhook refused: {len(during)}, answers {answer_counts(during)}, "
            f"204s by outcome {outcome_counts(during)}")
        log(f"all {len(messages) - len(never)}/{len(messages)} acknowledged {done - outage_end:.1f} s after the webhook "
            f"recovered (run {done - started:.1f} s); {pusher.attempts} deliveries, answers {answer_counts(all_attempts)}; "
            f"push latency p99 {percentile(latencies, 99) * 1000:.0f} ms, max {max(latencies):.2f} s")

        failures = []
        # Acknowledged messages delivered again must send nothing new.
        redeliver_sample(port, [m for m in messages if m.acked_at], 0.2, "sample", failures, args.run)
        check_effects(port, redis_port, plan, messages, failures)
        keys = message_keys(messages, plan)
        accepted = collections.Counter(key for _, key, status in webhook.requests if status == 202)
        refused = collections.Counter(key for _, key, status in webhook.requests if status == 503)
        first_accept = {}
        for t, key, status in webhook.requests:
            if status == 202:
                first_accept.setdefault(key, t)
        exactly_once = sum(1 for key in keys if accepted[key] == 1)
        twice = sorted(key for key in keys if accepted[key] > 1)
        missing = sorted(key for key in keys if accepted[key] == 0)
        acked_first = sorted(key for key, m in keys.items()
                             if m.acked_at is not None and (key not in first_accept or m.acked_at < first_accept[key]))
        log(f"webhook: {len(webhook.requests)} requests, {sum(refused.values())} refused with 503 "
            f"({len(refused)} keys), {sum(accepted.values())} accepted with 202; keys accepted exactly once "
            f"{exactly_once}/{len(keys)}, more than once {len(twice)}, never {len(missing)}; "
            f"pushes acknowledged before their message was accepted: {len(acked_first)}")
        if acked_during:
            failures.append(f"{len(acked_during)} pushes acknowledged while the webhook refused: {outcome_counts(acked_during)}")
        if never:
            failures.append(f"{len(never)} messages never acknowledged")
        if twice:
            failures.append(f"{len(twice)} keys accepted more than once: {twice[:5]}")
        if missing:
            failures.append(f"{len(missing)} keys never accepted: {missing[:5]}")
        if acked_first:
            failures.append(f"{len(acked_first)} acknowledged before the webhook accepted their message: {acked_first[:5]}")
        if set(accepted) - set(keys):
            failures.append(f"unexpected keys at the webhook: {sorted(set(accepted) - set(keys))[:5]}")
        return failures
    finally:
        webhook.close()


# ---- scenario 4: kill -9 with reminders pending -----------------------------------------------------------------------

def scenario_reminder_crash(args, procs):
    n = args.carts
    run = args.run
    prefix = f"remind-{run}"

    def abandonments(now):
        return [Message({"event_id": f"{prefix}-ca-{i}", "event_type": "cart.abandoned", "event_version": 1,
                         "occurred_at": iso(now), "source": "reliability", "user_id": f"u-{prefix}-{i}",
                         "payload": {"cart_id": f"c-{prefix}-{i}", "total": 19.99, "currency": "EUR"}}, "abandoned")
                for i in range(n)]

    sink = os.path.join(args.work, "remind-messages.jsonl")
    stack = Stack(procs, args.work, "remind", {"PulseCart__Messaging__Sink": "file", "PulseCart__Messaging__FilePath": sink,
                                               "PulseCart__Reminders__Delay": args.delay})
    port, redis_port = stack.port, stack.redis_port
    ready = stack.start()
    log(f"redis :{redis_port}, consumer :{port} ready in {ready:.1f} s; PulseCart__Reminders__Delay={args.delay}")

    # occurred_at = now, taken once the consumer is ready, so the reminders fall due `delay` after the push.
    now = datetime.datetime.now(datetime.timezone.utc)
    messages = abandonments(now)
    started = time.monotonic()
    Pusher(port, 8, "push").run_and_wait([(0, m) for m in messages])
    pushed = time.monotonic() - started
    acked = sum(1 for m in messages if m.acked_in("push"))
    due = now.replace(microsecond=0) + datetime.timedelta(seconds=parse_delay(args.delay))
    log(f"pushed {n} cart.abandoned (occurred_at {iso(now)}, due {iso(due)}) in {pushed:.2f} s: "
        f"{acked} acknowledged, outcomes {outcome_counts(attempts_in(messages))}")
    time.sleep(max(0.0, started + args.kill_at - time.monotonic()))
    tasks_before = len(reminder_tasks(redis_port))
    stack.kill9_consumer()
    killed = time.monotonic() - started
    lines_at_kill = [line for line in read_messages(sink)[0] if line["template"] == "cart_abandonment_reminder"]
    log(f"kill -9 at {killed:.1f} s ({utc_now()}): {tasks_before} tasks in the emulator's Redis store, "
        f"{len(lines_at_kill)} reminders sent so far")
    restart = stack.start_consumer()
    restarted_at = time.time()
    due_at = due.timestamp()
    log(f"restarted on the same ports, ready in {restart:.1f} s ({utc_now()}); waiting {args.wait:.0f} s")

    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        time.sleep(0.5)
    lines, torn = read_messages(sink)
    reminders = [line for line in lines if line["template"] == "cart_abandonment_reminder"]
    per_cart = collections.Counter(line["cart_id"] for line in reminders)
    carts = [f"c-{prefix}-{i}" for i in range(n)]
    once = sum(1 for cart in carts if per_cart[cart] == 1)
    twice = sorted(cart for cart in carts if per_cart[cart] > 1)
    missing = sorted(cart for cart in carts if per_cart[cart] == 0)
    lateness = [(datetime.datetime.fromisoformat(line["sent_at"]) - due).total_seconds() for line in reminders]
    views = parallel(lambda cart: get_json(port, f"/ops/carts/{cart}"), carts)
    statuses = collections.Counter(((v or {}).get("reminder") or {}).get("status", f"view {s}") for s, v in views)
    left = len(reminder_tasks(redis_port))
    dispatches = metric(port, "pulsecart_tasks_dispatch_total", "outcome")
    late = sum(1 for seconds in lateness if seconds > 5)
    log(f"reminder lines: {len(reminders)} for {n} carts: exactly once {once}, more than once {len(twice)}, "
        f"never {len(missing)}; sent {min(lateness, default=0):.1f}-{max(lateness, default=0):.1f} s after due "
        f"({late} more than 5 s late); reminder status in /ops {dict(statuses)}; tasks left in the store {left}")
    log(f"the restarted process's task dispatches by outcome (pulsecart_tasks_dispatch_total): {dispatches}"
        + (f"; the first attempts were refused because the restart was ready only {restarted_at - due_at:.1f} s after "
           f"the reminders fell due (see README)" if dispatches.get("retry") and restarted_at > due_at else ""))
    failures = []
    if acked != n:
        failures.append(f"only {acked}/{n} cart.abandoned acknowledged")
    if tasks_before != n:
        failures.append(f"{tasks_before} tasks in the store at the kill, expected {n}")
    if twice:
        failures.append(f"{len(twice)} carts reminded more than once: {twice[:5]}")
    if missing:
        failures.append(f"{len(missing)} carts never reminded: {missing[:5]}")
    if statuses.get("sent", 0) != n:
        failures.append(f"reminder status in /ops: {dict(statuses)}")
    if left:
        failures.append(f"{left} tasks still in the store")
    if torn:
        failures.append(f"{torn} torn lines in the message file")
    return failures


def parse_delay(text):
    hours, minutes, seconds = (float(part) for part in text.split(":"))
    return hours * 3600 + minutes * 60 + seconds


# ---- main -------------------------------------------------------------------------------------------------------------

SCENARIOS = {
    "crash": scenario_crash,
    "redis-outage": scenario_redis_outage,
    "sink-outage": scenario_sink_outage,
    "reminder-crash": scenario_reminder_crash,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--app", required=True, help="directory of the Release build, apphost renamed")
    parser.add_argument("--work", required=True)
    parser.add_argument("--pidfile", required=True)
    parser.add_argument("--run", type=int, default=int(time.time()))
    parser.add_argument("--orders", type=int, default=1000, help="crash: order.placed events")
    parser.add_argument("--carts", type=int, help="crash: carts (cart.updated + cart.abandoned each); reminder-crash: N")
    parser.add_argument("--kill-at", type=float, help="crash: share acknowledged at the kill; reminder-crash: seconds")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--rate", type=float, help="events per second offered")
    parser.add_argument("--load-seconds", type=float)
    parser.add_argument("--outage-at", type=float, default=5.0)
    parser.add_argument("--outage", type=float, help="seconds Redis is down / the webhook refuses")
    parser.add_argument("--patience", type=float, default=120.0)
    parser.add_argument("--delay", default="00:00:08", help="reminder-crash: PulseCart__Reminders__Delay")
    parser.add_argument("--wait", type=float, default=20.0, help="reminder-crash: seconds to wait after the restart")
    args = parser.parse_args()
    defaults = {
        "crash": {"carts": 500, "kill_at": 0.4, "workers": 8},
        "redis-outage": {"rate": 100.0, "outage": 10.0, "load_seconds": 20.0, "workers": 32},
        "sink-outage": {"rate": 60.0, "outage": 5.0, "load_seconds": 12.0, "workers": 16},
        "reminder-crash": {"carts": 50, "kill_at": 3.0, "workers": 8},
    }[args.scenario]
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)

    procs = Processes(args.app, args.work, args.pidfile)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    try:
        failures = SCENARIOS[args.scenario](args, procs)
    finally:
        procs.stop_all()
    for failure in failures:
        log(f"FAIL {failure}")
    log(f"{'PASS' if not failures else 'FAILED'} ({time.monotonic() - started:.0f} s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
