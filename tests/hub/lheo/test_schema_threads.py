"""XSD validation gives the same verdict in any thread, however many validate at once.

The scheduler syncs several sources in threads at the same time; an lxml ``XMLSchema``
shared by them keeps one ``error_log``, which another thread may clear between a
``validate()`` and the reading of its errors: an invalid formation then reads as valid.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from lheo_factory import document, formation
from lxml import etree

from hub.lheo.record import read_formation
from hub.lheo.schema import NS_23, xml_schema

THREADS = 8
ROUNDS = 150

Verdict = tuple[bool, list[tuple[int | None, str, str]]]

SAMPLES = {
    "valid": formation("V1", sessions=3),
    "bad-date": formation("B1", debut="19/08/2023"),
    "bad-certifiante": formation("B2").replace("<certifiante>0", "<certifiante>5"),
}


def verdict(name: str) -> Verdict:
    """Read one sample formation, parsed afresh, and say what validation made of it."""
    [element] = etree.fromstring(document([SAMPLES[name]])).iterfind(f"{{{NS_23}}}offres/*")
    record = read_formation(element, "2.3", NS_23)
    return record.valid, [(e.line, e.path, e.reason) for e in record.errors]


def test_each_thread_gets_the_one_thread_verdict_and_errors() -> None:
    expected = {name: verdict(name) for name in SAMPLES}
    assert expected["valid"] == (True, [])
    assert not expected["bad-date"][0] and not expected["bad-certifiante"][0]
    assert all(errors for valid, errors in expected.values() if not valid)

    names = list(SAMPLES)
    start = threading.Barrier(THREADS)

    def work(worker: int) -> list[tuple[str, Verdict]]:
        start.wait()
        wrong = []
        for i in range(ROUNDS):
            name = names[(worker + i) % len(names)]
            got = verdict(name)
            if got != expected[name]:
                wrong.append((name, got))
        return wrong

    with ThreadPoolExecutor(THREADS) as pool:
        wrong = [w for result in pool.map(work, range(THREADS)) for w in result]
    total = THREADS * ROUNDS
    assert not wrong, f"{len(wrong)} of {total} verdicts differ, e.g. {wrong[:3]}"


def test_each_thread_compiles_its_schema_once() -> None:
    here = xml_schema("2.3")
    assert xml_schema("2.3") is here
    elsewhere: list[etree.XMLSchema] = []

    def twice() -> None:
        elsewhere.extend((xml_schema("2.3"), xml_schema("2.3")))

    thread = threading.Thread(target=twice)
    thread.start()
    thread.join()
    assert elsewhere[0] is elsewhere[1]
    assert elsewhere[0] is not here
