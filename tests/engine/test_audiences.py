"""Audiences: the rule grammar, evaluation against a direct pandas computation, storage, CLI."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.cli import main
from engine.audiences import (
    RuleSyntaxError,
    audience_members,
    compile_rule,
    delete_audience,
    export_csv,
    fields_used,
    get_audience,
    list_audiences,
    load_audience_data,
    monthly_as_of,
    parse,
    render,
    save_audience,
    size_over_time,
    splits,
    valid_segments,
    with_thresholds,
)
from engine.audiences.grammar import (
    And,
    Comparison,
    Not,
    Or,
    Segment,
    comparisons,
    with_segments_as,
)
from engine.db import open_store, session_scope
from engine.errors import UserError
from engine.predict.service import fit_store_predictor
from engine.profiles import compute_profiles

AS_OF = datetime(2026, 9, 15)
SEGMENTS = ("night_owl", "mobile_first", "high_value", "books_enthusiast")

# --------------------------------------------------------------------------- grammar


def test_not_binds_tighter_than_and_which_binds_tighter_than_or():
    assert parse("a OR b AND NOT c") == Or((Segment("a"), And((Segment("b"), Not(Segment("c"))))))
    assert parse("NOT a AND b") == And((Not(Segment("a")), Segment("b")))
    assert parse("(a or b) and c") == And((Or((Segment("a"), Segment("b"))), Segment("c")))


def test_comparisons_between_and_keywords_in_any_case():
    node = parse("Lifetime_Value >= 70 and night_shopping BETWEEN 40 And 80.5")
    assert node == And(
        (
            Comparison("lifetime_value", ">=", 70.0),
            Comparison("night_shopping", "between", 40.0, 80.5),
        )
    )


def test_between_takes_its_and_before_the_boolean_and():
    node = parse("x between 1 and 2 and y")
    assert node == And((Comparison("x", "between", 1.0, 2.0), Segment("y")))


@pytest.mark.parametrize("text", [
    "a AND b OR NOT c", "(a OR b) AND lifetime_value >= 70", "NOT (a AND b)",
    "a AND (b OR c) AND NOT NOT d", "p_active between 0.25 and 1 OR clv_12m != 3",
])  # fmt: skip
def test_render_parses_back_to_the_same_tree(text):
    node = parse(text)
    assert parse(render(node)) == node


_NAMES = st.sampled_from(["night_owl", "mobile_first", "lifetime_value", "p_active", "x_1"])
_NUMBERS = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda v: v + 0.0)
_ATOMS = st.one_of(
    _NAMES.map(Segment),
    st.builds(Comparison, _NAMES, st.sampled_from([">", ">=", "<", "<=", "=", "!="]), _NUMBERS),
    st.builds(
        lambda f, a, b: Comparison(f, "between", min(a, b), max(a, b)), _NAMES, _NUMBERS, _NUMBERS
    ),
)
_TREES = st.recursive(
    _ATOMS,
    lambda inner: st.one_of(
        inner.map(Not),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_TREES)
def test_any_tree_renders_to_text_that_parses_back_to_it(tree):
    assert parse(render(tree)) == tree


@pytest.mark.parametrize(("text", "problem"), [
    ("", "the rule is empty"),
    ("   ", "the rule is empty"),
    ("night_owl AND", "expected a segment, a field or '(' at character 14, found the end"),
    ("(night_owl", "expected ')' (for the '(' at character 1) at character 11"),
    ("night_owl mobile_first", "expected AND, OR or the end of the rule at character 11"),
    ("lifetime_value >=", "expected a number at character 18"),
    ("lifetime_value >= abc", "expected a number at character 19, found 'abc'"),
    ("x between 5 and 1", "is empty: write the lower bound first"),
    ("x between 5 or 9", "expected AND in 'x between 5 AND ...'"),
    ("__import__('os')", "unexpected \"'\" at character 12"),
    ("a && b", "unexpected '&' at character 3"),
    ("a )", "expected AND, OR or the end of the rule at character 3, found ')'"),
])  # fmt: skip
def test_bad_syntax_names_the_problem_and_the_valid_syntax(text, problem):
    with pytest.raises(RuleSyntaxError) as caught:
        parse(text)
    assert problem in str(caught.value)
    assert "with AND, OR, NOT and parentheses" in str(caught.value)


def test_an_overlong_rule_is_refused_before_tokenizing():
    with pytest.raises(RuleSyntaxError, match="at most 2,000"):
        parse(" OR ".join(["night_owl"] * 300))


@pytest.mark.parametrize(("text", "problem", "choices"), [
    ("night_ow", "unknown segment 'night_ow'", "valid segments: night_owl, mobile_first"),
    ("lifetime_valu > 3", "unknown field 'lifetime_valu'", "valid fields: lifetime_value"),
    ("night_owl > 3", "'night_owl' is a segment: name it alone", "valid fields: lifetime_value"),
    ("lifetime_value", "'lifetime_value' is a field, not a segment", "between 50 and 100"),
    ("p_active >= 50", "p_active (probability still active (0-1)) runs from 0 to 1", "50"),
    ("clv_12m < -1", "runs from 0 or more: -1 is outside it", ""),
])  # fmt: skip
def test_unknown_names_and_values_out_of_range_name_the_valid_choices(text, problem, choices):
    with pytest.raises(UserError) as caught:
        compile_rule(text, SEGMENTS)
    assert problem in str(caught.value)
    assert choices in str(caught.value)


def test_what_if_thresholds_replace_the_chosen_comparisons_only():
    node = parse("lifetime_value >= 70 AND (night_owl OR night_shopping between 40 and 80)")
    changed = with_thresholds(node, {1: (30.0, 60.0)})
    assert [c for c in comparisons(changed)] == [
        Comparison("lifetime_value", ">=", 70.0),
        Comparison("night_shopping", "between", 30, 60),
    ]
    assert render(changed) == (
        "lifetime_value >= 70 AND (night_owl OR night_shopping between 30 and 60)"
    )


def test_segments_are_replaced_wherever_they_are_named():
    node = parse("night_owl AND NOT (night_owl OR high_value)")
    changed = with_segments_as(node, {"night_owl": Comparison("night_shopping", ">", 40.0)})
    assert render(changed) == ("night_shopping > 40 AND NOT (night_shopping > 40 OR high_value)")


def test_fields_used_lists_comparisons_then_the_scores_behind_segments():
    node = parse("p_active > 0.5 AND (night_owl OR books_enthusiast) AND p_active < 0.9")
    assert fields_used(node) == ["p_active", "night_shopping", "category_share"]


def test_monthly_as_of_points_end_at_the_moment_itself():
    points = monthly_as_of(datetime(2026, 1, 20), datetime(2026, 5, 3, 12), limit=12)
    assert points == [
        datetime(2026, 2, 1),
        datetime(2026, 3, 1),
        datetime(2026, 4, 1),
        datetime(2026, 5, 1),
        datetime(2026, 5, 3, 12),
    ]
    assert monthly_as_of(datetime(2025, 1, 1), datetime(2026, 5, 3), limit=3)[0] == datetime(
        2026, 4, 1
    )


# --------------------------------------------------------------------------- evaluation


@pytest.fixture(scope="module")
def seeded_data(seeded_db_url):
    engine = open_store(seeded_db_url)
    with session_scope(engine) as session:
        data = load_audience_data(session, as_of=AS_OF, predictions=True)
        profiles = compute_profiles(session, as_of=AS_OF)
        predictions = fit_store_predictor(session, as_of=AS_OF).predict(
            profiles["customer_id"].tolist()
        )
    engine.dispose()
    return data, profiles, predictions


def _has(profiles: pd.DataFrame, segment: str) -> pd.Series:
    return profiles["segments"].str.split(";").apply(lambda names: segment in names)


def test_evaluation_equals_a_direct_pandas_computation(seeded_data):
    data, profiles, predictions = seeded_data
    rule = (
        "(night_owl OR mobile_first) AND NOT deal_seeker AND lifetime_value between 40 "
        "and 90 OR p_active < 0.5 AND clv_12m >= 100"
    )
    members = audience_members(compile_rule(rule, data.segments), data)
    frame = profiles.merge(predictions[["customer_id", "p_active", "clv_12m"]], on="customer_id")
    expected = frame.loc[
        (
            (_has(frame, "night_owl") | _has(frame, "mobile_first"))
            & ~_has(frame, "deal_seeker")
            & frame["lifetime_value"].between(40, 90)
        )
        | ((frame["p_active"] < 0.5) & (frame["clv_12m"] >= 100)),
        "customer_id",
    ]
    assert 0 < len(members) < len(profiles)
    assert members["customer_id"].tolist() == sorted(expected)


def test_export_holds_contacts_and_exactly_the_scores_used(seeded_data):
    data, profiles, _ = seeded_data
    node = compile_rule("night_owl AND lifetime_value > 50", data.segments)
    members = audience_members(node, data)
    exported = pd.read_csv(io.StringIO(export_csv(node, members)))
    assert list(exported.columns) == [
        "customer_id",
        "name",
        "email",
        "city",
        "lifetime_value",
        "night_shopping",
    ]
    scores = profiles.set_index("customer_id").loc[exported["customer_id"]]
    assert (exported["lifetime_value"].to_numpy() > 50).all()
    assert exported["night_shopping"].to_numpy() == pytest.approx(
        scores["night_shopping"].round(2).to_numpy()
    )
    assert exported["email"].str.contains("@").all()


def test_splits_count_each_member_once_per_category_and_channel(seeded_data):
    data, _, _ = seeded_data
    node = compile_rule("mobile_first OR high_value", data.segments)
    members = audience_members(node, data)
    parts = splits(members, data)
    for name in ("category", "channel"):
        assert parts[name]["customers"].sum() == len(members)
        assert parts[name]["share"].sum() == pytest.approx(1.0)
    by_segment = parts["segment"].set_index("value")["customers"]
    in_both = members["customer_id"].isin(
        data.members.loc[data.members["segment"] == "mobile_first", "customer_id"]
    )
    assert by_segment["mobile_first"] == int(in_both.sum())


def test_a_rule_is_re_evaluated_at_each_as_of(seeded_db_url):
    moments = [datetime(2026, 6, 1), AS_OF]
    engine = open_store(seeded_db_url)
    with session_scope(engine) as session:
        node = compile_rule("lifetime_value >= 60 OR frequent_buyer", valid_segments(session))
        sizes = size_over_time(session, node, moments)
        expected = []
        for moment in moments:
            profiles = compute_profiles(session, as_of=moment)
            chosen = (profiles["lifetime_value"] >= 60) | _has(profiles, "frequent_buyer")
            expected.append((int(chosen.sum()), len(profiles)))
    engine.dispose()
    assert list(zip(sizes["size"], sizes["customers"], strict=True)) == expected
    assert expected[0][0] != expected[1][0]  # the moments really differ
    assert sizes["share"].tolist() == [size / n for size, n in expected]


def test_channels_categories_and_contacts_on_every_backend(db_url, capsys):
    from tests.dashboard.factories import build_small_store

    build_small_store(db_url)
    engine = open_store(db_url)
    with session_scope(engine) as session:
        data = load_audience_data(session)
        assert {"shoes_enthusiast", "bags_enthusiast"} <= set(valid_segments(session))
    engine.dispose()
    frame = data.customers.set_index("customer_id")
    # c0 orders on the web, c1 on iOS, c2 in the store; p2 (c2's product) has no category.
    assert frame["channel"].to_dict() == {"c0": "web", "c1": "ios", "c2": "store"}
    assert frame["top_category"].to_dict() == {"c0": "shoes", "c1": "bags", "c2": "(none)"}
    assert frame["city"].tolist() == ["Lyon"] * 3
    node = compile_rule("purchase_frequency >= 0 AND NOT shoes_enthusiast", data.segments)
    assert audience_members(node, data)["customer_id"].tolist() == ["c0", "c1", "c2"]
    code, out, _ = _run(
        capsys, "--db", db_url, "--json", "audience", "eval", "lifetime_value >= 0", "--members"
    )
    assert code == 0
    assert [(r["customer_id"], r["name"]) for r in json.loads(out)] == [
        ("c0", None),
        ("c1", None),
        ("c2", None),
    ]


def test_before_any_data_an_audience_is_empty_not_an_error(seeded_db_url, capsys):
    code, out, err = _run(
        capsys,
        "--db",
        seeded_db_url,
        "audience",
        "eval",
        "high_value OR NOT high_value",
        "--as-of",
        "2020-01-01",
    )
    assert code == 0, err
    assert "size       0 of 0 customers (0.0%)" in out
    code, out, _ = _run(
        capsys,
        "--db",
        seeded_db_url,
        "audience",
        "eval",
        "NOT high_value",
        "--as-of",
        "2020-01-01",
        "--format",
        "csv",
    )
    assert out == "customer_id,name,email,city,lifetime_value\n"
    code, _, err = _run(
        capsys, "--db", seeded_db_url, "audience", "eval", "p_active > 0.5", "--as-of", "2020-01-01"
    )
    assert code == 2 and "no orders before 2020-01-01" in err


# --------------------------------------------------------------------------- storage


def test_audiences_are_saved_replaced_listed_and_deleted(store):
    stamp = datetime(2026, 1, 1)
    with session_scope(store) as session:
        save_audience(session, " vip ", "night_owl and lifetime_value>=70", updated_at=stamp)
    with session_scope(store) as session:
        assert get_audience(session, "vip").rule == "night_owl AND lifetime_value >= 70"
        save_audience(session, "vip", "mobile_first", updated_at=datetime(2026, 2, 1))
        save_audience(session, "a-list", "high_value", updated_at=stamp)
    with session_scope(store) as session:
        saved = list_audiences(session)
        assert saved["name"].tolist() == ["a-list", "vip"]
        assert saved.loc[1, "rule"] == "mobile_first"
        assert saved.loc[1, "created_at"] == stamp
        delete_audience(session, "a-list")
    with session_scope(store) as session:
        with pytest.raises(UserError, match="unknown audience 'a-list'; saved audiences: vip"):
            get_audience(session, "a-list")
        with pytest.raises(UserError, match="invalid audience name"):
            save_audience(session, "; drop", "high_value", updated_at=stamp)
        with pytest.raises(UserError, match="unknown segment 'nobody'"):
            save_audience(session, "x", "nobody", updated_at=stamp)


# --------------------------------------------------------------------------- CLI


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_eval_csv_equals_the_engine_export(seeded_db_url, seeded_data, capsys):
    data, _, _ = seeded_data
    rule = "(night_owl OR mobile_first) AND p_buy_30d >= 0.3"
    code, out, _ = _run(
        capsys,
        "--db",
        seeded_db_url,
        "audience",
        "eval",
        rule,
        "--as-of",
        AS_OF.isoformat(),
        "--format",
        "csv",
    )
    node = compile_rule(rule, data.segments)
    assert code == 0
    assert out == export_csv(node, audience_members(node, data))
    header = "customer_id,name,email,city,p_buy_30d,night_shopping,mobile_usage"
    assert out.splitlines()[0] == header


def test_cli_define_show_list_delete(tmp_path, seeded_db_url, capsys):
    import shutil

    url = f"sqlite:///{tmp_path / 'copy.db'}"
    shutil.copy(seeded_db_url.removeprefix("sqlite:///"), tmp_path / "copy.db")
    rule = "night_owl and lifetime_value >= 50"
    assert _run(capsys, "--db", url, "audience", "define", "owls", rule)[0] == 0
    code, out, _ = _run(capsys, "--db", url, "audience", "list")
    assert out.strip() == "owls                     night_owl AND lifetime_value >= 50"
    code, shown, _ = _run(
        capsys,
        "--db",
        url,
        "audience",
        "show",
        "owls",
        "--as-of",
        AS_OF.isoformat(),
        "--members",
        "--format",
        "csv",
    )
    code, evaluated, _ = _run(
        capsys,
        "--db",
        url,
        "audience",
        "eval",
        rule,
        "--as-of",
        AS_OF.isoformat(),
        "--format",
        "csv",
    )
    assert shown == evaluated and len(shown.splitlines()) > 2
    code, summary, _ = _run(capsys, "--db", url, "--json", "audience", "show", "owls")
    assert '"size": ' in summary and '"share": ' in summary
    assert _run(capsys, "--db", url, "audience", "delete", "owls")[0] == 0
    code, _, err = _run(capsys, "--db", url, "audience", "show", "owls")
    assert code == 2
    assert err.strip() == (
        "personalize audience: error: unknown audience 'owls'; saved "
        "audiences: none yet (define one first)"
    )


@pytest.mark.parametrize(("rule", "problem"), [
    ("night_owl AND", "expected a segment, a field or '('"),
    ("nigth_owl", "unknown segment 'nigth_owl'; valid segments: high_value"),
    ("nightshopping > 3", "unknown field 'nightshopping'; valid fields: lifetime_value"),
])  # fmt: skip
def test_cli_refuses_a_bad_rule_in_one_line(seeded_db_url, capsys, rule, problem):
    code, out, err = _run(capsys, "--db", seeded_db_url, "audience", "eval", rule)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert problem in err
