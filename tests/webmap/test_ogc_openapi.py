"""The OGC API's OpenAPI document: valid (openapi-spec-validator) and kept (schemathesis).

Schemathesis calls the app in-process through WSGI with a few generated requests per operation
(signed in with a token over HTTP Basic, so every collection is in the document) and checks
for server errors and responses the document does not describe. Its "schema-valid request
rejected" check is left out: a CQL2 expression, a datetime interval or a bbox with min > max
cannot be told apart from a good one in JSON Schema, and a 400 is the right answer to them.
"""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from webmap.ledger import tokens
from webmap.ledger.models import User
from webmap.web import context as webctx

EXAMPLES = 8  # per operation: enough to reach every parameter, short enough for CI


@pytest.fixture
def token_headers(app, make_user, make_issue):
    """A small ledger and an admin's token; return the HTTP Basic header."""
    app.config["TODAY"] = "2022-06-01"
    app.config["TOKEN_MAX_PER_MINUTE"] = 100_000
    make_issue("HT-01")
    make_issue("HT-02", county_code="431124", county_name="道县",
               geometry={"type": "Point", "coordinates": [111.55, 25.5]})  # fmt: skip
    make_user("gis", "admin")
    with webctx.session_scope(app) as session:
        user = session.scalar(select(User).where(User.username == "gis"))
        text = tokens.create_token(session, user, name="schemathesis", actor="test").text
    pair = base64.b64encode(f"gis:{text}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def test_openapi_document_validates(app, token_headers):
    """openapi-spec-validator accepts the document, anonymous and signed in."""
    from openapi_spec_validator import validate

    client = app.test_client()
    for headers in ({}, token_headers):
        resp = client.get("/ogcapi/openapi?f=json", headers=headers)
        assert resp.status_code == 200
        validate(json.loads(resp.get_data()))


def test_schemathesis_finds_no_server_error(app, token_headers):
    """Generated requests to every operation: no 5xx, every response as documented."""
    import schemathesis
    from schemathesis.checks import positive_data_acceptance

    doc = json.loads(app.test_client().get("/ogcapi/openapi?f=json",
                                           headers=token_headers).get_data())  # fmt: skip
    schema = schemathesis.openapi.from_dict(doc)
    schema.app = app  # call the app in-process (WSGI)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def run(case):
            """Call one generated request and check the response against the document."""
            case.call_and_validate(headers=token_headers, excluded_checks=[
                positive_data_acceptance])  # fmt: skip

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
