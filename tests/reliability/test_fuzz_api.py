"""Fuzzing the HTTP API from its own OpenAPI description (schemathesis), on a real hub process.

Every operation of ``/openapi.json`` gets generated requests, valid and invalid, sent over
real HTTP to ``hub serve`` on PostgreSQL, holding the admin token (or, for a push, the
source's push token, so the generated bodies reach the reader). No answer may be a 5xx,
every answer must conform to the description (documented status: its schema and content
type), and an answer with a status the description does not list must still be an RFC
9457 problem. The statuses found undocumented are kept as notes in the suite's table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from lheo_factory import document, formation
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from schemathesis.core.failures import FailureGroup

from hub.store.sources import ensure_source
from hub.store.tokens import create_token
from tests.reliability.hubproc import HubProcess, postgres_schema
from tests.reliability.offer import XML
from tests.reliability.report import Tally
from tests.reliability.sizes import scale

EXAMPLES = scale(8, 150)


@dataclass
class ApiUnderTest:
    hub: HubProcess
    admin: str
    push: str
    schema: Any


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiUnderTest]:
    with postgres_schema("fuzzapi") as url:
        hub = HubProcess(tmp_path_factory.mktemp("fuzz-api"), url, api={"max_push_bytes": 65536})
        try:
            hub.start().ready()
            ensure_source(hub.store.engine, "reunion", "04")
            admin = create_token(hub.store.engine, "admin").token
            push = create_token(hub.store.engine, "push", source="reunion").token
            with hub.client() as http:
                seeded = http.post(
                    "/v1/push/reunion",
                    content=document([formation(f"API-{i}") for i in range(5)]),
                    headers={"Content-Type": XML, "Authorization": f"Bearer {push}"},
                )
                assert seeded.status_code == 200, seeded.text
            schema = schemathesis.openapi.from_url(f"{hub.url}/openapi.json")
            yield ApiUnderTest(hub, admin, push, schema)
        finally:
            hub.close()


def content_type(response: Any) -> str:
    """The media type of a schemathesis response (its headers map names to lists)."""
    values = response.headers.get("content-type") or [""]
    return str(values[0]).split(";")[0].strip()


def check_answer(case: Any, response: Any, notes: list[str]) -> None:
    """No 5xx; a success conforms to its description; a refusal conforms or is a problem.

    The hub answers every refusal as an RFC 9457 problem. Where the description says
    otherwise (FastAPI documents its own 422 as plain JSON) or says nothing, the answer
    must still be a well-formed problem, and the gap is noted for the table.
    """
    case.validate_response(response, checks=[not_a_server_error])
    problem = content_type(response) == "application/problem+json"
    if response.status_code < 400 or not problem:
        case.validate_response(
            response, checks=[response_schema_conformance, content_type_conformance]
        )
        return
    body = response.json()
    assert body["status"] == response.status_code and body["title"] and body["detail"], body
    documented = case.operation.definition.raw.get("responses", {}).get(str(response.status_code))
    if documented is None or "application/problem+json" not in documented.get("content", {}):
        said = "not listed" if documented is None else "listed as plain JSON"
        note = f"{case.method} {case.path}: {response.status_code} problem {said} in /openapi.json"
        if note not in notes:
            notes.append(note)


def fuzz(
    api: ApiUnderTest, operation: Any, mode: GenerationMode, notes: list[str], sent: list[int]
) -> None:
    """Send up to ``EXAMPLES`` generated requests to one operation, counted in ``sent``."""
    token, path_parameters = api.admin, None
    if operation.path.startswith("/v1/push/"):
        token, path_parameters = api.push, {"source": "reunion"}
    strategy = operation.as_strategy(
        generation_mode=mode,
        headers={"Authorization": f"Bearer {token}"},
        path_parameters=path_parameters,
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def requests(case: Any) -> None:
        sent.append(1)
        check_answer(case, case.call(base_url=api.hub.url, timeout=60), notes)

    requests()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_5xx_and_every_answer_conforms(
    api: ApiUnderTest, figures: Tally, mode: GenerationMode
) -> None:
    operations = [result.ok() for result in api.schema.get_all_operations()]
    assert len(operations) >= 10, "the description lists the hub's operations"
    failures, sent, gaps = [], [], []
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not operation.query:
            continue  # only query parameters can be invalid here: paths and bodies are strings
        try:
            fuzz(api, operation, mode, gaps, sent)
        except Unsatisfiable:
            continue  # every query parameter takes any string: no invalid request exists
        except (Exception, FailureGroup) as exc:  # collected: one run names every failing one
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    figures.count("fuzz_cases", f"HTTP API: {mode.value}", len(sent))
    if gaps:
        print("\n".join(gaps))  # the full list, in the test's captured output
        statuses = sorted({gap.split(": ")[1].split()[0] for gap in gaps})
        figures.notes.append(
            f"/openapi.json does not describe {len(gaps)} kinds of refusal met by "
            f"{mode.value} requests (problem+json {', '.join(statuses)})"
        )
    assert not failures, "\n\n".join(failures)
