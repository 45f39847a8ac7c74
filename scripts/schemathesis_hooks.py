"""Schemathesis hooks for scripts/contract-tests.sh (loaded through schemathesis.toml).

Every check stays on with its default statuses. What no JSON Schema can say is put right in
the *positive* cases only, so `positive_data_acceptance` still fails on any other refusal:

- a link's `expires_at` must be in the future (a schema cannot name "now");
- an open link's `min_amount` must be at most its `max_amount` (one field against another);
- an `Idempotency-Key` used before with another body is the contract's 409 (a schema cannot
  know which keys were used): positive link creates get a fresh key each;
- a list's `cursor` / `after` must be one the store issued (a schema cannot know the store's
  ids): invented ones are dropped from positive cases; the stateful phase passes real ones.

Negative cases are left as drawn: they must still be refused.
"""

import uuid
from datetime import datetime, timedelta, timezone

import schemathesis
from schemathesis.generation import GenerationMode

LISTS = {"listMerchantPayments": "cursor", "listPaymentLinks": "cursor", "listEvents": "after"}


def _positive(case) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode == GenerationMode.POSITIVE


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@schemathesis.hook
def map_case(ctx, case):
    if not _positive(case):
        return case
    operation_id = case.operation.definition.raw.get("operationId")
    if operation_id == "createPaymentLink" and isinstance(case.body, dict):
        body = case.body
        at = body.get("expires_at")
        if isinstance(at, str) and at.strip():
            body["expires_at"] = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
        low, high = body.get("min_amount"), body.get("max_amount")
        # 82067.0 is an integer to JSON Schema (and to the server): floats count too.
        if _number(low) and _number(high) and low > high:
            body["min_amount"], body["max_amount"] = high, low
        if isinstance(case.headers, dict) and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = uuid.uuid4().hex
    cursor = LISTS.get(operation_id)
    if cursor and isinstance(case.query, dict) and case.query.get(cursor):
        del case.query[cursor]
    return case
