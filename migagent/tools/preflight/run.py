"""Running the planned checks on the target, read-only, under a statement timeout.

Every query runs on `target.connect_readonly` (default_transaction_read_only),
each in its own transaction that is rolled back. Tables whose catalog estimate
is above `sample_above_rows` are sampled and the result says so. A query that
times out or waits too long for a lock is "unknown": neither a pass nor a failure.
"""

from __future__ import annotations

import time

import psycopg
from psycopg import errors

from migagent.errors import first_line
from migagent.tools import query_guard
from migagent.tools.introspect.model import SchemaSnapshot
from migagent.tools.preflight import queries
from migagent.tools.preflight.messages import fact, finding, passed, rows
from migagent.tools.preflight.model import PreflightCheck, PreflightReport, PreflightResult
from migagent.tools.preflight.plan import plan
from migagent.tools.target import connect_readonly

DEFAULT_TIMEOUT_MS = 5_000
DEFAULT_SAMPLE_ABOVE_ROWS = 1_000_000
DEFAULT_SAMPLE_ROWS = 10_000


def run_preflight(
    source: str,
    target_url: str,
    snapshot: SchemaSnapshot,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    sample_above_rows: int = DEFAULT_SAMPLE_ABOVE_ROWS,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    filename: str = "<revision>",
) -> PreflightReport:
    """Ask the target whether its rows allow each data-dependent upgrade statement."""
    planned = plan(source, snapshot, filename)
    report = PreflightReport(notes=planned.notes, server_version=snapshot.server_version)
    if not planned.checks:
        return report
    with connect_readonly(target_url, timeout_ms=timeout_ms) as conn:
        for check in planned.checks:
            report.results.append(
                run_check(
                    conn,
                    check,
                    timeout_ms=timeout_ms,
                    sample_above_rows=sample_above_rows,
                    sample_rows=sample_rows,
                )
            )
    return report


def sample_for(
    check: PreflightCheck, sample_above_rows: int, sample_rows: int
) -> queries.Sample | None:
    if check.row_estimate <= sample_above_rows or check.row_estimate <= 0:
        return None
    percent = min(100.0, round(100.0 * sample_rows / check.row_estimate, 6))
    return queries.Sample(percent=percent, fraction=percent / 100.0)


def run_check(
    conn: psycopg.Connection,
    check: PreflightCheck,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    sample_above_rows: int = DEFAULT_SAMPLE_ABOVE_ROWS,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
) -> PreflightResult:
    """One check: query, classify, explain."""
    base = {
        "kind": check.kind,
        "statement_index": check.statement_index,
        "sql": check.sql,
        "table": check.table,
        "columns": check.columns,
        "fix": check.fix,
        "exactness": check.exactness,
        "check": check,
    }
    if check.skip:
        ok = check.skip_status == "ok"
        return PreflightResult(
            status=check.skip_status,
            message=(passed(check) + f": {check.skip}") if ok else f"not checked: {check.skip}",
            fact=fact(check, sampled=False) if ok else None,
            **base,
        )
    sample = sample_for(check, sample_above_rows, sample_rows)
    probe = queries.probe(check, sample)
    text = probe.query.as_string(conn)
    started = time.perf_counter()
    try:
        row = _fetch(conn, probe)
        error = None
    except (errors.QueryCanceled, errors.LockNotAvailable) as exc:
        ms = (time.perf_counter() - started) * 1000
        why = (
            f"the query timed out after {timeout_ms:,} ms"
            if isinstance(exc, errors.QueryCanceled)
            else "it waited too long for a lock on the table"
        )
        return PreflightResult(
            status="unknown",
            query=text,
            sampled=sample is not None,
            duration_ms=ms,
            message=f"not checked: {why} ({check.table}); run the query by hand or raise the timeout",
            **base,
        )
    except query_guard.QueryRefused as exc:
        return PreflightResult(
            status="unknown",
            query=text,
            sampled=sample is not None,
            duration_ms=(time.perf_counter() - started) * 1000,
            message=f"not checked on the target: {exc} (the copy's proof still runs it)",
            **base,
        )
    except psycopg.Error as exc:
        row, error = None, exc
    ms = (time.perf_counter() - started) * 1000
    base.update(query=text, duration_ms=ms, sampled=sample is not None)
    if probe.shape == "trial":
        return _trial_result(check, row, error, sample, base)
    if error is not None and _data_error(error):
        # the target's own rows raised it (a domain CHECK, a bad value): the statement fails too
        return PreflightResult(
            status="violations",
            message=f"rows of {check.table} make the statement fail: {first_line(error)}",
            **base,
        )
    if error is not None:
        return PreflightResult(
            status="unknown", message=f"not checked: the query failed: {first_line(error)}", **base
        )
    assert row is not None
    if probe.shape == "groups":
        bad, example, scanned = int(row[1]), row[2], row[3]
        groups = int(row[0])
        est = round(row[5]) if sample is not None and row[5] is not None else None
    else:
        bad, example, scanned = int(row[0]), row[1], row[2]
        groups = None
        est = round(bad / sample.fraction) if sample is not None else None
    if sample is not None and scanned is not None and scanned > 0 and probe.shape == "rows":
        est = round(bad * check.row_estimate / scanned)
    base.update(sample_rows=scanned, groups=groups, example=example)
    if bad == 0:
        msg = passed(check)
        if sample is not None:
            msg += f" (in a sample of {rows(scanned or 0)} of ~{check.row_estimate:,}; not proven for the rest)"
        return PreflightResult(
            status="ok",
            violating_rows=0,
            message=msg,
            fact=fact(check, sample is not None),
            estimated_violations=0 if sample else None,
            **base,
        )
    if check.method in ("pattern", "range") and _converts(conn, check, sample):
        msg = passed(check) + " (the values a pattern flagged convert when cast)"
        return PreflightResult(
            status="ok", violating_rows=0, message=msg, fact=fact(check, sample is not None), **base
        )
    text_ = finding(check, bad, groups, example)
    if sample is not None:
        text_ = f"in a sample of {rows(scanned or 0)} of ~{check.row_estimate:,}: {text_} (~{est:,} estimated in all)"
    status = "violations" if check.failing else "info"
    if check.written_by and status == "violations":
        status = "unknown"
        text_ += f" today; the revision's {check.written_by} runs first and may fix them"
    message = f"{text_}: {check.fix}" if status != "info" or check.truncates else text_
    return PreflightResult(
        status=status, violating_rows=bad, estimated_violations=est, message=message, **base
    )


def _data_error(error: Exception) -> bool:
    """SQLSTATE class 22 (data exception) or 23 (integrity constraint violation)."""
    state = getattr(error, "sqlstate", None) or ""
    return state.startswith(("22", "23"))


def _fetch(conn: psycopg.Connection, probe: queries.Probe) -> tuple | None:
    """Run one probe, read-only, after `query_guard` passed it: a probe evaluates the
    revision's own expressions (USING, CHECK, index expressions) on the target's rows, and
    a VOLATILE function among them could change the target despite the read-only
    transaction (create a replication slot, say). QueryRefused when it may not run."""
    checked = query_guard.inspect(probe.query.as_string(conn))
    try:
        query_guard.check_catalog(conn, checked.refs)
        return conn.execute(probe.query).fetchone()
    finally:
        conn.rollback()


def _converts(
    conn: psycopg.Connection, check: PreflightCheck, sample: queries.Sample | None
) -> bool:
    """Whether every row an approximate predicate flagged converts after all."""
    try:
        _fetch(conn, queries.confirm(check, sample))
    except (psycopg.Error, query_guard.QueryRefused):
        return False
    return True


def _trial_result(
    check: PreflightCheck,
    row: tuple | None,
    error: Exception | None,
    sample: queries.Sample | None,
    base: dict,
) -> PreflightResult:
    scanned = row[2] if row else None
    base["sample_rows"] = scanned
    if error is None:
        msg = passed(check)
        if sample is not None:
            msg += f" (in a sample of {rows(scanned or 0)} of ~{check.row_estimate:,}; not proven for the rest)"
        return PreflightResult(
            status="ok", violating_rows=0, message=msg, fact=fact(check, sample is not None), **base
        )
    if not _data_error(error):  # not a data exception: the check itself could not run
        return PreflightResult(
            status="unknown",
            message=f"not checked: the conversion could not be tried: {first_line(error)}",
            **base,
        )
    where = f"in a sample of ~{check.row_estimate:,} rows " if sample is not None else ""
    msg = (
        f"converting {check.table}.{check.columns[0]} to {check.type_name} fails {where}on the"
        f" target: {first_line(error)}: {check.fix}"
    )
    return PreflightResult(status="violations", violating_rows=None, message=msg, **base)
