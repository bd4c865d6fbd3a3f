"""Generated garbage fed to the parsers: the only outcomes are parsed values or the project's
own `ForecastError` (whose message is one line), never another exception.

Three depths of garbage: arbitrary text or bytes (exercises decoding and the TOML/CSV syntax),
valid files mutated line by line (exercises each key and cell), and well-formed TOML/CSV built
from pools of good and bad values (gets past the syntax into every semantic check)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from conftest import DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast.errors import ForecastError
from forecast.io.evidence import EVIDENCE_COLUMNS, load_evidence, parse_evidence, parse_resolutions
from forecast.io.priors import load_scenario, parse_scenario
from forecast.io.text import read_user_text
from forecast.model.spec import Scenario

TOML_PATH = Path("priors/two-node-beta.toml")
CSV_PATH = Path("evidence/two-node-beta.csv")
GOOD_TOML = (DATA / TOML_PATH).read_text()
GOOD_CSV = (DATA / CSV_PATH).read_text() + "\nE2,a,2025-02-03,Other,B,2,0.5,c1,A less likely,\n"
GOOD_RES = "node,outcome,date,source\na,yes,2025-03-01,Ref\n"
SCENARIO = parse_scenario(GOOD_TOML, TOML_PATH)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(parse, *args):
    """Run a parser: its value, or its ForecastError checked to render as one line."""
    try:
        return parse(*args)
    except ForecastError as error:
        message = str(error)
        assert "\n" not in message and "\r" not in message, message
        return error


# -- arbitrary text and bytes ----------------------------------------------------------------

@SETTINGS
@given(st.text())
def test_any_text_as_a_scenario(text):
    result = outcome(parse_scenario, text, TOML_PATH)
    assert isinstance(result, Scenario | ForecastError)


@SETTINGS
@given(st.text())
def test_any_text_as_evidence_and_resolutions(text):
    assert isinstance(outcome(parse_evidence, text, CSV_PATH, SCENARIO), tuple | ForecastError)
    assert isinstance(outcome(parse_resolutions, text, CSV_PATH, SCENARIO), tuple | ForecastError)


def _mutated_bytes(data: bytes):
    return st.tuples(st.integers(0, len(data)), st.integers(0, 64), st.binary(max_size=16)).map(
        lambda t: data[:t[0]] + t[2] + data[t[0] + t[1]:])


@SETTINGS
@given(st.one_of(st.binary(max_size=200), _mutated_bytes(GOOD_TOML.encode()),
                 _mutated_bytes(GOOD_CSV.encode()),
                 st.sampled_from([b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\x00\x00\xfe\xff"])
                 .flatmap(lambda bom: _mutated_bytes(bom + GOOD_CSV.encode()))))
def test_any_bytes_on_disk(data):
    with tempfile.TemporaryDirectory() as folder:
        toml = Path(folder) / "two-node-beta.toml"
        csv = Path(folder) / "two-node-beta.csv"
        toml.write_bytes(data)
        csv.write_bytes(data)
        assert isinstance(outcome(read_user_text, csv, "a file"), str | ForecastError)
        assert isinstance(outcome(load_scenario, toml), Scenario | ForecastError)
        assert isinstance(outcome(load_evidence, csv, SCENARIO), tuple | ForecastError)


# -- valid files mutated line by line ------------------------------------------------------------

TOML_VALUES = ["0", "-1", "1.0", "0.5", "nan", "inf", "-inf", "1e400", "1" + "0" * 400, "true",
               '""', '"x"', '"likely"', '"low"', "[]", "[0.0, 1.0]", "[2.0, 2.0, 2.0]", '["a"]',
               '["b", "b"]', "{}", "{ a = true }", "{ a = 1 }", "{ zz = true }", "2025-01-01",
               "2025-01-01T00:00:00", "00:00:00", '"\\u0000"', "[[[[[[1]]]]]]", '"' + "y" * 6000 + '"']
TOML_LINES = ["[scales.likelihood_ratio]", "[scales.terms]", "[scales.nope]", "[[node]]",
              "[[node.prior]]", "[scenario]", 'id = "a"', 'id = "A"', "parents = []", "x = 1", "[scales]"]


@st.composite
def mutated_toml(draw):
    lines = GOOD_TOML.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["value", "delete", "duplicate", "insert"]))
        line = lines[index]
        if action == "value" and "=" in line:
            key = line.split("=", 1)[0]
            lines[index] = f"{key}= {draw(st.sampled_from(TOML_VALUES))}"
        elif action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, line)
        else:
            lines.insert(index, draw(st.sampled_from(TOML_LINES)))
        if not lines:
            break
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None)
@given(mutated_toml())
def test_mutated_scenario(text):
    assert isinstance(outcome(parse_scenario, text, TOML_PATH), Scenario | ForecastError)


# -- well-formed TOML and CSV from pools of good and bad values ------------------------------

def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
                             if ord(c) < 0x10000 else f"\\U{ord(c):08x}" for c in value) + '"'
    if isinstance(value, float):
        return {float("inf"): "inf", float("-inf"): "-inf"}.get(value, "nan" if value != value
                                                                else repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + " }"
    return str(value)  # int, date


NODE_IDS = ["a", "b", "c", "A", "1x", ""]
scalars = st.one_of(st.booleans(), st.integers(-2, 10), st.integers(10**300, 10**320),
                    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(NODE_IDS),
                    st.text(max_size=8), st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(NODE_IDS + ["p", "x"]), inner,
                                                  max_size=3)), max_leaves=6)
PRIOR_KEYS = ["when", "p", "strength", "beta", "term", "confidence", "fixed", "rationale",
              "reference_class", "colour"]
NODE_KEYS = ["id", "role", "question", "resolution", "opens", "deadline", "parents", "label", "x"]


numbers = st.one_of(st.floats(0.01, 0.99), st.floats(-1, 60), st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(-5, 60), st.integers(10**308, 10**320), values)
FORMS = {"p+strength": {"p": numbers, "strength": numbers},
         "beta": {"beta": st.lists(numbers, max_size=3) | values},
         "term": {"term": st.sampled_from(["likely", "unlikely", "maybe"]) | values,
                  "confidence": st.sampled_from(["low", "high", "total"]) | values},
         "fixed": {"p": numbers, "fixed": st.booleans() | values}}


@st.composite
def prior_tables(draw, parents: list[str], config: int):
    """Mostly one well-formed prior form with bad values; sometimes any keys at all."""
    if draw(st.integers(0, 9)) == 7:
        keys = draw(st.lists(st.sampled_from(PRIOR_KEYS), unique=True, max_size=5))
        return {key: draw(values) for key in keys}
    if draw(st.integers(0, 9)) < 7:       # mostly a good prior, so that others get checked too
        table = {"p": draw(st.floats(0.01, 0.99)), "strength": draw(st.floats(0.5, 50))}
    else:
        table = {key: draw(pool) for key, pool in FORMS[draw(st.sampled_from(sorted(FORMS)))].items()}
    if parents:
        table["when"] = {p: bool(config >> bit & 1) for bit, p in enumerate(parents)}
        if draw(st.integers(0, 9)) == 7:
            table["when"] = draw(st.dictionaries(st.sampled_from(NODE_IDS), st.booleans() | values,
                                                 max_size=3))
    table |= {"rationale": "Why.", "reference_class": "Which."}
    if draw(st.integers(0, 9)) == 7:
        table[draw(st.sampled_from(["rationale", "reference_class", "colour"]))] = draw(
            st.text(max_size=5) | values)
    return table


@st.composite
def scenario_texts(draw):
    lines = ["[scenario]", 'id = "two-node-beta"', 'title = "T"', 'trigger = "E"',
             "as_of = 2025-01-01"]
    scale_names = st.sampled_from(["likelihood_ratio", "reliability", "credibility", "confidence",
                                   "terms", "bogus"])
    for name in draw(st.lists(scale_names, unique=True, max_size=2)) if draw(st.booleans()) else []:
        lines.append(f"[scales.{name}]")
        for key, value in draw(st.dictionaries(st.sampled_from(["A", "G", "1", "7", "huge", "likely"]),
                                               numbers | st.lists(numbers, max_size=3),
                                               max_size=3)).items():
            lines.append(f'"{key}" = {toml_value(value)}')
    ids = draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True, min_size=1, max_size=3))
    if draw(st.integers(0, 9)) == 7:
        ids.append(draw(st.sampled_from(NODE_IDS)))
    for index, node_id in enumerate(ids):
        lines.append("[[node]]")
        earlier = ids[:index]
        parents = draw(st.lists(st.sampled_from(earlier), unique=True) if earlier else st.just([]))
        if draw(st.integers(0, 9)) == 7:
            parents = draw(st.lists(st.sampled_from(NODE_IDS), max_size=2))
        node = {"id": node_id, "role": "driver", "question": "Q?", "resolution": "R.",
                "opens": dt.date(2025, 1, 1), "deadline": dt.date(2026, 1, 1), "parents": parents}
        if draw(st.integers(0, 9)) == 7:
            node[draw(st.sampled_from(NODE_KEYS))] = draw(values)
        lines += [f"{key} = {toml_value(value)}" for key, value in node.items()]
        rows = 2 ** len(parents) if all(isinstance(p, str) for p in parents) else 1
        for config in range(rows + draw(st.integers(-1, 1)) if rows > 1 else rows):
            lines.append("[[node.prior]]")
            prior = draw(prior_tables(parents, config))
            lines += [f"{key} = {toml_value(value)}" for key, value in prior.items()]
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None)
@given(scenario_texts())
def test_well_formed_toml_with_bad_values(text):
    assert isinstance(outcome(parse_scenario, text, TOML_PATH), Scenario | ForecastError)


def test_the_toml_generator_reaches_parsed_scenarios():
    """Generated scenarios must sometimes parse, or the property would only test early checks."""
    parsed = []

    @settings(max_examples=200, deadline=None, database=None)
    @given(scenario_texts())
    def collect(text):
        parsed.append(isinstance(outcome(parse_scenario, text, TOML_PATH), Scenario))

    collect()
    assert 0.02 < sum(parsed) / len(parsed) < 0.95


CELLS = ["", " ", "E1", "E 1", "=cmd|' /C calc'!A0", "a", "b", "B", "zz", "2025-02-01", "2025-02-30",
         "01/02/2025", "２０２５-０２-０１", "A", "F", "G", "1", "6", "7", "3", "0", "-3", "nan", "1e400",
         "1e-400", "1_000", "١٢", "strongly_for", "yes", "no", "maybe", "https://x.org", "javascript:x",
         '"', '""', "a,b", "line\nbreak", "\x00", "\x1b[2J", "\r", "\ufeff", "x" * 6000]


@st.composite
def csv_texts(draw):
    columns = list(EVIDENCE_COLUMNS) + ["node", "outcome", "date", "source", "colour"]
    header = draw(st.lists(st.sampled_from(columns), min_size=0, max_size=11))
    rows = draw(st.lists(st.lists(st.sampled_from(CELLS) | st.text(max_size=6), max_size=11),
                         max_size=4))

    def cell(text: str) -> str:
        return '"' + text.replace('"', '""') + '"' if draw(st.booleans()) else text

    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return newline.join(",".join(cell(c) for c in row) for row in [header, *rows]) + newline


@settings(max_examples=400, deadline=None)
@given(csv_texts())
def test_well_formed_csv_with_bad_values(text):
    assert isinstance(outcome(parse_evidence, text, CSV_PATH, SCENARIO), tuple | ForecastError)
    assert isinstance(outcome(parse_resolutions, text, CSV_PATH, SCENARIO), tuple | ForecastError)


@SETTINGS
@given(st.lists(st.sampled_from(CELLS) | st.text(max_size=6), min_size=10, max_size=10))
def test_a_row_of_bad_cells_under_a_good_header(cells):
    row = ",".join('"' + c.replace('"', '""') + '"' for c in cells)
    text = GOOD_CSV + row + "\n"
    result = outcome(parse_evidence, text, CSV_PATH, SCENARIO)
    assert isinstance(result, tuple | ForecastError)
    if isinstance(result, ForecastError):
        assert result.path == CSV_PATH and isinstance(result.row, int)


def test_the_good_inputs_parse():
    """The generators start from files that parse, so a mutation is what breaks them."""
    assert len(parse_evidence(GOOD_CSV, CSV_PATH, SCENARIO)) == 2
    assert len(parse_resolutions(GOOD_RES, CSV_PATH, SCENARIO)) == 1
