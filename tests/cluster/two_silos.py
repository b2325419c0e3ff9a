#!/usr/bin/env python3
"""Pushes events to two consumer processes that form one Orleans cluster, and checks what they did.

Run by tests/cluster/two-silos.sh, which starts the processes. Standard library only.

Cart i (ids carry the run id, so runs never share keys):
  - cart.abandoned: pushed to one process, then the other, then to both at the same instant;
  - even i: order.placed ten seconds later, pushed to both processes twice at the same instant (four identical
    deliveries at once), then once more to the other process.
A push answered with anything but 2xx is redelivered, as Pub/Sub does, until acknowledged.

Checks: every order confirmed exactly once across both message files; every abandonment processed exactly once;
each still-abandoned cart has exactly one reminder task (in the emulator's Redis store) and each purchased cart none;
/ops/carts/{id} and /ops/orders/{id} read the same from both processes.
"""

import argparse
import base64
import collections
import concurrent.futures
import datetime
import itertools
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

SUBSCRIPTION = "projects/pulsecart-local/subscriptions/pulsecart-consumer"
_message_ids = itertools.count(1)
_lock = threading.Lock()


class Tally:
    """Counts deliveries, answers and outcomes across threads."""

    def __init__(self):
        self.deliveries = 0
        self.redelivered = 0
        self.answers = collections.Counter()
        self.outcomes = collections.defaultdict(collections.Counter)
        self.first_ack_after = []

    def add(self, event_id, status, outcome):
        with _lock:
            self.deliveries += 1
            self.answers[status] += 1
            if outcome:
                self.outcomes[event_id][outcome] += 1


def push(base, event):
    data = base64.b64encode(json.dumps(event).encode()).decode()
    message_id = str(next(_message_ids))
    body = json.dumps({
        "message": {"data": data, "messageId": message_id, "message_id": message_id,
                    "publishTime": event["occurred_at"]},
        "subscription": SUBSCRIPTION,
    }).encode()
    request = urllib.request.Request(base + "/consumer/push", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get("X-PulseCart-Outcome")
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return 0, None


def deliver(tally, base, event, patience=120.0):
    """One Pub/Sub message: redelivered with backoff until a 2xx acknowledges it."""
    started = time.monotonic()
    backoff = 0.25
    attempt = 0
    while True:
        attempt += 1
        status, outcome = push(base, event)
        tally.add(event["event_id"], status, outcome)
        if 200 <= status < 300:
            if attempt > 1:
                with _lock:
                    tally.redelivered += 1
                    tally.first_ack_after.append(time.monotonic() - started)
            return outcome
        if time.monotonic() - started > patience:
            raise SystemExit(f"{event['event_id']} not acknowledged after {patience:.0f} s (last answer {status})")
        time.sleep(backoff)
        backoff = min(backoff * 2, 2.0)


def at_once(tally, targets, event):
    """Identical deliveries released at the same instant, as concurrent redeliveries to different pods."""
    barrier = threading.Barrier(len(targets))
    results = [None] * len(targets)

    def one(index, base):
        barrier.wait()
        results[index] = deliver(tally, base, event)

    threads = [threading.Thread(target=one, args=(i, base)) for i, base in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Plan:
    def __init__(self, run, carts):
        self.run = run
        self.carts = carts
        # Recent, so every reminder falls due an hour from now (PulseCart__Reminders__Delay=01:00:00), after the run.
        self.t0 = datetime.datetime.fromtimestamp(run, datetime.timezone.utc) - datetime.timedelta(minutes=1)

    def cart(self, i):
        return f"c-{self.run}-{i}"

    def order(self, i):
        return f"o-{self.run}-{i}"

    def event(self, event_type, event_id, occurred_at, i, payload):
        return {"event_id": event_id, "event_type": event_type, "event_version": 1, "occurred_at": iso(occurred_at),
                "source": "two-silos", "user_id": f"u-{self.run}-{i}", "payload": payload}

    def abandoned(self, i):
        return self.event("cart.abandoned", f"ab-{self.cart(i)}", self.t0, i,
                          {"cart_id": self.cart(i), "total": 59.97, "currency": "EUR"})

    def placed(self, i, late=False):
        return self.event("order.placed", f"op-{self.order(i)}", self.t0 + datetime.timedelta(seconds=20 if late else 10), i,
                          {"order_id": self.order(i), "cart_id": self.cart(i), "total": 59.97, "currency": "EUR"})


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None


def read_messages(paths):
    """(process, message) for every line of every message file; a missing file is a process that sent nothing."""
    sent = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as lines:
                sent.extend((path, json.loads(line)) for line in lines if line.strip())
        except FileNotFoundError:
            pass
    return sent


def reminder_tasks(redis_port):
    """Task names held by the embedded Cloud Tasks emulators' shared Redis store."""
    output = subprocess.run(["redis-cli", "-p", str(redis_port), "--raw", "hkeys", "pulsecart:cloudtasks:tasks"],
                            check=True, capture_output=True, text=True).stdout
    return {line for line in output.splitlines() if line}


def check(plan, readers, messages, redis_port, purchased, tally, failures):
    """The figures and the verdict; appends a line to failures for anything wrong."""
    expected = {f"order_confirmation:{plan.order(i)}" for i in range(plan.carts) if purchased(i)}
    sent = read_messages(messages)
    by_key = collections.Counter(message["idempotency_key"] for _, message in sent)
    by_process = collections.Counter(path for path, message in sent if message["template"] == "order_confirmation")
    confirmations = {key: count for key, count in by_key.items() if key.startswith("order_confirmation:")}
    duplicates = sum(count - 1 for count in confirmations.values() if count > 1)
    lost = sorted(expected - set(confirmations))
    unexpected = sorted(set(by_key) - expected)

    abandonments = [f"ab-{plan.cart(i)}" for i in range(plan.carts)]
    processed_twice = [event for event in abandonments if tally.outcomes[event]["processed"] > 1]

    tasks = reminder_tasks(redis_port)
    disagreements, wrong_state, expected_tasks = [], [], set()
    for i in range(plan.carts):
        views = [get_json(f"{reader}/ops/carts/{plan.cart(i)}") for reader in readers]
        if any(status != 200 for status, _ in views) or any(view != views[0][1] for _, view in views):
            disagreements.append(plan.cart(i))
            continue
        cart = views[0][1]
        reminder = cart.get("reminder") or {}
        want = ("purchased", "skipped") if purchased(i) else ("abandoned", "scheduled")
        if (cart["status"], reminder.get("status")) != want:
            wrong_state.append(f"{plan.cart(i)}: {cart['status']}/{reminder.get('status')}, expected {want[0]}/{want[1]}")
        if not purchased(i):
            expected_tasks.add(reminder.get("task_name"))
        if purchased(i):
            orders = [get_json(f"{reader}/ops/orders/{plan.order(i)}") for reader in readers]
            if any(status != 200 for status, _ in orders) or any(order != orders[0][1] for _, order in orders):
                disagreements.append(plan.order(i))
    # A purchased cart's task was deleted; every task left must be the reminder of a still-abandoned cart.
    missing_task = sorted(expected_tasks - tasks)
    extra_tasks = sorted(tasks - expected_tasks)

    print(f"   deliveries {tally.deliveries} (answers {dict(sorted(tally.answers.items()))}), "
          f"{tally.redelivered} messages needed a redelivery"
          + (f" (acknowledged within {max(tally.first_ack_after):.1f} s)" if tally.first_ack_after else ""))
    totals = collections.Counter()
    for outcomes in tally.outcomes.values():
        totals.update(outcomes)
    print(f"   answers by outcome {dict(sorted(totals.items()))}; abandonments processed more than once: {len(processed_twice)}")
    print(f"   order confirmations: expected {len(expected)}, sent {sum(confirmations.values())}, "
          f"duplicates {duplicates}, lost {len(lost)}; by process "
          + ", ".join(f"{path.rsplit('/', 1)[-1]}={count}" for path, count in sorted(by_process.items())))
    print(f"   reminder tasks in the store: {len(tasks)} for {len(expected_tasks)} still-abandoned carts "
          f"(missing {len(missing_task)}, not belonging to one {len(extra_tasks)})")
    print(f"   /ops views that differ between processes or are missing: {len(disagreements)}; "
          f"carts in the wrong state: {len(wrong_state)}")

    if duplicates:
        failures.append(f"{duplicates} duplicate confirmations: "
                        + ", ".join(key for key, count in confirmations.items() if count > 1)[:500])
    if lost:
        failures.append(f"{len(lost)} confirmations lost: {', '.join(lost)[:500]}")
    if unexpected:
        failures.append(f"unexpected messages: {', '.join(unexpected)[:500]}")
    if processed_twice:
        failures.append(f"abandonments processed more than once: {', '.join(processed_twice)[:500]}")
    if missing_task or extra_tasks:
        failures.append(f"reminder tasks: missing {missing_task[:10]}, not belonging to a cart {extra_tasks[:10]}")
    if disagreements:
        failures.append(f"views differ or are missing: {disagreements[:10]}")
    if wrong_state:
        failures.append(f"wrong state: {wrong_state[:10]}")


def run_deliver(args, plan):
    a, b = args.to
    tally = Tally()

    def one_cart(i):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        abandoned = plan.abandoned(i)
        deliver(tally, first, abandoned)
        deliver(tally, second, abandoned)
        at_once(tally, [a, b], abandoned)
        if i % 2 == 0:
            placed = plan.placed(i)
            at_once(tally, [a, b, a, b], placed)
            deliver(tally, second, placed)

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one_cart, range(plan.carts)))
    print(f"   {plan.carts} carts, {plan.carts // 2 + plan.carts % 2} orders, in {time.monotonic() - started:.1f} s")

    failures = []
    check(plan, [a, b], args.messages, args.redis_port, lambda i: i % 2 == 0, tally, failures)
    return failures


def run_after_crash(args, plan):
    survivor = args.to[0]
    tally = Tally()

    def one_cart(i):
        # Everything acknowledged before the crash, again: the grains that lived on the dead process come back from
        # Redis on the survivor and must answer "duplicate".
        deliver(tally, survivor, plan.abandoned(i))
        if i % 2 == 0:
            deliver(tally, survivor, plan.placed(i))
        else:
            at_once(tally, [survivor, survivor], plan.placed(i, late=True))

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one_cart, range(plan.carts)))
    print(f"   redelivered everything and bought the other {plan.carts // 2} carts in {time.monotonic() - started:.1f} s")

    failures = []
    repeats = [f"ab-{plan.cart(i)}" for i in range(plan.carts) if tally.outcomes[f"ab-{plan.cart(i)}"]["processed"]]
    repeats += [f"op-{plan.order(i)}" for i in range(0, plan.carts, 2) if tally.outcomes[f"op-{plan.order(i)}"]["processed"]]
    print(f"   events acknowledged before the crash processed again: {len(repeats)}")
    if repeats:
        failures.append(f"acknowledged events processed again after the crash: {repeats[:10]}")
    check(plan, [survivor], args.messages, args.redis_port, lambda i: True, tally, failures)
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=int, required=True)
    parser.add_argument("--carts", type=int, required=True)
    parser.add_argument("--redis-port", type=int, required=True)
    parser.add_argument("--messages", nargs=2, required=True)
    parser.add_argument("phase", choices=["deliver", "after-crash"])
    parser.add_argument("--to", nargs="+", required=True)
    args = parser.parse_args()

    plan = Plan(args.run, args.carts)
    failures = run_deliver(args, plan) if args.phase == "deliver" else run_after_crash(args, plan)
    for failure in failures:
        print(f"   FAIL {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
