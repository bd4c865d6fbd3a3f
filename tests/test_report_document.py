"""The report document is exactly what its type says (forecast/analysis/report_document.py): real
documents (a table scenario, a what-if, an update with its history and influences, replays, a
scenario with resolutions, a NUTS scenario with parametric CPTs) carry every required key of
`ReportDocument` and its nested TypedDicts, no key the types do not declare, and values of the
declared JSON types. So a key that build_report gains or loses without the type is a failure
here. Renderers only read the document."""

from __future__ import annotations

import copy
import datetime as dt
import json
import types
import typing
from typing import Literal, NotRequired, Required, Union, get_args, get_origin, get_type_hints

import pytest
from conftest import DATA, FROZEN, copy_root

from forecast.analysis import report_document
from forecast.analysis.report_document import ReportDocument, SensitivityRow, WatchRow
from forecast.io.project import scenario_paths
from forecast.jobs.report import make_report
from forecast.jobs.sensitivity import sensitivity_document
from forecast.jobs.update import run_update
from forecast.jobs.watch import watch_document
from forecast.jobs.whatif import whatif_document
from forecast.render import render
from forecast.render.whatif import render_whatif_markdown, render_whatif_text

TURKEY, TARIFFS = "turkey-peacekeeping", "us-tariffs-2025"
JSON_LEAVES = (str, int, float, bool, type(None))


# -- the validator ------------------------------------------------------------------------------

class Mismatch(AssertionError):
    pass


def check(value, kind, where: str = "$") -> None:
    """Raise Mismatch unless `value` is of the declared type `kind`: TypedDicts key for key
    (every required key, nothing undeclared), lists and dicts element by element, unions,
    literals and the JSON scalars (a float may be written as an int, as JSON does; a bool is
    never a number)."""
    origin, args = get_origin(kind), get_args(kind)
    if typing.is_typeddict(kind):
        if not isinstance(value, dict):
            raise Mismatch(f"{where}: expected an object ({kind.__name__}), found {type(value).__name__}")
        hints = get_type_hints(kind, include_extras=True)
        missing = kind.__required_keys__ - value.keys()
        undeclared = value.keys() - kind.__required_keys__ - kind.__optional_keys__
        if missing:
            raise Mismatch(f"{where}: {kind.__name__} keys missing: {sorted(missing)}")
        if undeclared:
            raise Mismatch(f"{where}: keys not declared in {kind.__name__}: {sorted(undeclared)}")
        for key, item in value.items():
            check(item, hints[key], f"{where}.{key}")
    elif origin in (NotRequired, Required):
        check(value, args[0], where)
    elif origin in (Union, types.UnionType):
        errors = []
        for option in args:
            try:
                check(value, option, where)
                return
            except Mismatch as error:
                errors.append(str(error))
        raise Mismatch(f"{where}: {value!r} is none of {kind}: " + "; ".join(errors))
    elif origin is Literal:
        if not any(type(value) is type(option) and value == option for option in args):
            raise Mismatch(f"{where}: {value!r} is not one of {args}")
    elif origin is list:
        if not isinstance(value, list):
            raise Mismatch(f"{where}: expected a list, found {type(value).__name__}")
        for i, item in enumerate(value):
            check(item, args[0], f"{where}[{i}]")
    elif origin is dict:
        if not isinstance(value, dict):
            raise Mismatch(f"{where}: expected an object, found {type(value).__name__}")
        for key, item in value.items():
            check(key, args[0], f"{where} key {key!r}")
            check(item, args[1], f"{where}.{key}")
    elif kind is type(None):
        if value is not None:
            raise Mismatch(f"{where}: expected null, found {value!r}")
    elif kind is float:
        if type(value) not in (float, int):
            raise Mismatch(f"{where}: expected a number, found {value!r}")
    elif kind in (str, int, bool):
        if type(value) is not kind:
            raise Mismatch(f"{where}: expected {kind.__name__}, found {value!r}")
    else:
        raise Mismatch(f"{where}: {kind!r} is not a JSON type")


def declared_types(kind, seen=None):
    """Every type the declaration of `kind` is built from, recursively."""
    seen = set() if seen is None else seen
    if kind in seen:
        return seen
    seen.add(kind)
    if typing.is_typeddict(kind):
        children = get_type_hints(kind, include_extras=True).values()
    elif get_origin(kind) is Literal:
        children = ()                          # its values, not types
    else:
        children = get_args(kind)
    for child in children:
        declared_types(child, seen)
    return seen


def _typed_dicts():
    return [v for v in vars(report_document).values() if typing.is_typeddict(v)]


# -- the validator can fail ---------------------------------------------------------------------

def test_the_declarations_use_json_types_only():
    """Leaves are str, int, float, bool or null (or literals of strings); containers are lists
    and string-keyed objects; every nested record is itself a TypedDict."""
    for kind in declared_types(ReportDocument):
        origin = get_origin(kind)
        if typing.is_typeddict(kind) or kind in JSON_LEAVES:
            continue
        if origin is Literal:
            assert all(isinstance(a, str) for a in get_args(kind)), kind
        elif origin is dict:
            assert get_args(kind)[0] is str, kind
        else:
            assert origin in (list, Union, types.UnionType, NotRequired), kind


def test_every_record_of_the_module_is_reachable_from_the_document_or_a_job():
    """No stray TypedDict: each is part of ReportDocument, or a row type a job also prints."""
    reachable = declared_types(ReportDocument) | {report_document.DecisionFields,
                                                  report_document.HistoryFields,
                                                  report_document.WhatifColumns}
    assert {k.__name__ for k in _typed_dicts()} - {k.__name__ for k in reachable
                                                    if typing.is_typeddict(k)} == set()


def test_optional_keys_are_declared_not_required():
    """The keys only some documents have: a what-if's, the history of a written report, a
    team's (analysts' files) or one analyst's, and the recalibrated forecasts."""
    assert ReportDocument.__optional_keys__ == {"given", "unconditional_diagnostics", "history",
                                                "history_skipped", "analysts", "analyst_names",
                                                "pool", "disagreement", "analyst",
                                                "recalibration"}
    assert report_document.NodeReport.__optional_keys__ == {"conditioned", "unconditional",
                                                            "change_pp", "change_pp_by_state",
                                                            "by_analyst", "spread", "pool",
                                                            "recalibrated"}


def test_the_check_catches_a_missing_an_undeclared_and_a_mistyped_key(documents):
    good = documents["report"]
    check(good, ReportDocument)
    extra = {**good, "nodes": [{**good["nodes"][0], "new_field": 1}] + good["nodes"][1:]}
    with pytest.raises(Mismatch, match=r"\$\.nodes\[0\]: keys not declared in NodeReport: \['new_field'\]"):
        check(extra, ReportDocument)
    missing = {k: v for k, v in good.items() if k != "seed"}
    with pytest.raises(Mismatch, match=r"ReportDocument keys missing: \['seed'\]"):
        check(missing, ReportDocument)
    mistyped = copy.deepcopy(good)
    mistyped["diagnostics"]["divergences"] = True           # a bool is not a count
    with pytest.raises(Mismatch, match=r"\$\.diagnostics\.divergences"):
        check(mistyped, ReportDocument)
    wrong_word = copy.deepcopy(good)
    wrong_word["nodes"][0]["role"] = "maybe"
    with pytest.raises(Mismatch, match=r"\$\.nodes\[0\]\.role"):
        check(wrong_word, ReportDocument)
    tupled = copy.deepcopy(good)
    tupled["nodes"][0]["interval"] = tuple(tupled["nodes"][0]["interval"])
    with pytest.raises(Mismatch, match=r"expected a list"):
        check(tupled, ReportDocument)


# -- real documents -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def documents(tmp_path_factory, shipped_root) -> dict[str, ReportDocument]:
    """Real documents of every kind, each from a copy in a temporary root: the shipped Turkey
    scenario (table CPTs), and the frozen tariffs scenario, whose resolutions and evidence dates
    (2025-04-02 to 2025-05-12) leave room for replays."""
    shipped = copy_root(shipped_root, tmp_path_factory.mktemp("typed") / "root")
    turkey = scenario_paths(shipped, TURKEY)
    frozen = copy_root(FROZEN, tmp_path_factory.mktemp("typed-frozen") / "root")
    tariffs = scenario_paths(frozen, TARIFFS)
    docs: dict[str, ReportDocument] = {}
    docs["report"] = make_report(turkey, 1, write=False).document      # the shipped team's
    docs["analyst"] = make_report(turkey, 1, write=False, analyst="mediator").document
    docs["whatif"] = whatif_document(turkey, ["ceasefire=yes", "us_backstop=no"], 1)
    docs["resolutions"] = make_report(tariffs, 1, write=False).document
    docs["resolutions_whatif"] = whatif_document(tariffs, ["us_china_deal=no"], 1)
    docs["whatif_replay"] = whatif_document(tariffs, ["us_china_deal=yes"], 1,
                                            as_of=dt.date(2025, 4, 20))
    update = run_update(tariffs, 1, as_of=dt.date(2025, 4, 20))     # a snapshot of 20 April
    assert update.appended and update.document is not None
    docs["update_replay"] = update.document
    update = run_update(tariffs, 1)                                  # and one with everything
    assert update.appended and update.document is not None
    docs["update"] = update.document
    docs["replay"] = make_report(tariffs, 1, write=False, as_of=dt.date(2025, 4, 30)).document
    # a fitted recalibration under the root: every report shows the recalibrated forecasts
    fitted = shipped / "reports" / "recalibration.json"
    fitted.parent.mkdir(parents=True, exist_ok=True)
    fitted.write_text(json.dumps(RECALIBRATION))
    docs["recalibrated"] = make_report(turkey, 1, write=False).document
    fitted.unlink()
    return docs


RECALIBRATION = {"fitted_on": "2026-01-02", "n": 40, "questions": 40,
                 "groups": {"team": {"a": 0.1, "b": 0.8, "a_interval": [-0.2, 0.4],
                                     "b_interval": [0.6, 1.0], "n": 40}},
                 "held_out": {"folds": 5, "by": "question", "n": 40, "raw_brier": 0.2,
                              "recalibrated_brier": 0.18}}


KINDS = ("report", "analyst", "recalibrated", "whatif", "whatif_replay", "update_replay", "update", "replay", "resolutions",
         "resolutions_whatif")


@pytest.mark.parametrize("kind", KINDS)
def test_real_documents_have_exactly_the_declared_keys_and_types(documents, kind):
    document = documents[kind]
    check(document, ReportDocument)
    # and it is its own JSON: nothing but JSON values (a tuple would not come back equal)
    assert json.loads(json.dumps(document, allow_nan=False)) == document


def test_the_optional_keys_are_there_exactly_when_they_should_be(documents):
    for kind in KINDS:
        document = documents[kind]
        whatif = "whatif" in kind
        assert ("given" in document) == whatif, kind
        assert ("unconditional_diagnostics" in document) == whatif, kind
        charted = not whatif and kind != "analyst"      # one analyst's report charts no history
        assert ("recalibration" in document) == (kind == "recalibrated"), kind
        assert ("history" in document) == ("history_skipped" in document) == charted, kind
        for node in document["nodes"]:
            assert node.keys() >= {"conditioned", "unconditional", "change_pp"} if whatif else (
                node.keys().isdisjoint({"conditioned", "unconditional", "change_pp"})), kind
    # the documents do exercise the lists of nested records
    assert any(n["top_evidence"] for n in documents["update"]["nodes"])
    assert documents["update"]["history"] and documents["replay"]["history"]
    assert [s["as_of"] for s in documents["update"]["history"]] == ["2025-04-20", "2025-05-12"]
    assert [s["as_of"] for s in documents["replay"]["history"]] == ["2025-04-20"]
    assert documents["resolutions"]["resolutions"] and documents["resolutions"]["overdue"]
    assert documents["report"]["watch"] and documents["report"]["sensitivity"]["targets"]
    assert documents["report"]["whatif_page"]["available"]
    team = documents["report"]
    assert team["analysts"] and team["disagreement"] and all("by_analyst" in n for n in team["nodes"])
    assert documents["analyst"]["analyst"] == "mediator" and "analysts" not in documents["analyst"]
    assert documents["replay"]["replay"] and documents["replay"]["as_of_basis"] == "replay"


def test_watch_and_sensitivity_rows_are_the_documents_row_types(tmp_path):
    """`forecast watch` (with CPT draws: `interval`, `top_share`) and `forecast sensitivity` print
    the rows the report document carries."""
    paths = scenario_paths(copy_root(FROZEN, tmp_path / "root"), TURKEY)
    watch = watch_document(paths, cpt_draws=50)
    assert watch["watch"] and all("interval" in row and "top_share" in row for row in watch["watch"])
    check(watch["watch"], list[WatchRow])
    rows = sensitivity_document(paths, top=3)["sensitivity"]
    assert rows
    check(rows, dict[str, list[SensitivityRow]])


RENDERERS = [lambda d, fmt=fmt: render(d, fmt) for fmt in ("json", "md", "html", "csv", "table")]


@pytest.mark.parametrize("kind", KINDS)
def test_rendering_leaves_every_kind_of_document_as_it_was(documents, kind):
    document = documents[kind]
    before = copy.deepcopy(document)
    for renderer in RENDERERS:
        assert renderer(document)
    if "given" in document:
        assert render_whatif_text(document) and render_whatif_markdown(document)
    assert document == before


# -- NUTS with parametric CPTs ------------------------------------------------------------------

@pytest.mark.slow
def test_a_nuts_document_with_parametric_cpts_has_the_declared_keys(tmp_path):
    from forecast.inference.settings import SamplerSettings

    paths = scenario_paths(copy_root(DATA, tmp_path / "root"), "mixed-parametric")
    settings = SamplerSettings(draws=200, tune=200, progress=False)
    document = make_report(paths, 1, settings, write=False).document
    assert document["engine"] == "nuts" and {"tune", "chains", "backend"} <= document["sampler"].keys()
    assert any(n["cpt"] != "table" and n["cpt_text"] for n in document["nodes"])
    assert document["whatif_page"]["available"] is False and document["whatif_page"]["model"] is None
    check(document, ReportDocument)
    before = copy.deepcopy(document)
    for renderer in RENDERERS:
        assert renderer(document)
    assert document == before


def _containers(value, found=None):
    found = [] if found is None else found
    if isinstance(value, dict | list):
        found.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            _containers(item, found)
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_a_document_shares_no_list_or_object_between_its_parts_or_with_caches(documents, kind):
    """Each list and object of a document is its own (a sensitivity row's `when`, a what-if's
    `unconditional` interval, the diagnostics and sampler settings are copies, not the fit's or
    another document's), and `versions` is not the cached dict every report reads: changing
    one part of one document can change nothing else."""
    from forecast.versions import package_versions

    containers = _containers(documents[kind])
    assert len({id(c) for c in containers}) == len(containers)
    assert documents[kind]["versions"] is not package_versions()
    others = [c for other in KINDS if other != kind for c in _containers(documents[other])]
    assert not {id(c) for c in containers} & {id(c) for c in others}
