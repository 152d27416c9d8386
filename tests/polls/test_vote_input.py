"""The vote body's direct reading gives exactly what VoteInputSerializer gives, and leaves
every body it does not take as is to the serializer and its messages."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from polls.serializers import VoteInputSerializer, _plain_answer_inputs, vote_answer_inputs

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.sampled_from([0, 1, 2**31 - 1, 2**31, -32768, -32769, 32767, 32768, 4.0, 4.5]),
    st.text(max_size=8),
    st.sampled_from(["", "  ", " a ", "7", "01", "+1", "a\x00", "\ud800", "x" * 10_001]),
)
wild = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)


def mostly(plain):
    """Values an app would send four times in five; anything JSON can carry otherwise."""
    return st.integers(min_value=0, max_value=4).flatmap(lambda n: wild if n == 4 else plain)


small = st.integers(min_value=-32768, max_value=32767)
ids = st.integers(min_value=1, max_value=2**31 - 1)
row_keys = st.one_of(ids.map(str), st.sampled_from(["01", "+2", " 3", "x", "12345678901", "0"]))
answer_values = {
    "options": mostly(st.lists(ids, max_size=5)),
    "value": mostly(small),
    "rows": mostly(st.dictionaries(row_keys, small, max_size=3)),
    "text": mostly(st.text(max_size=12)),
    "other_text": mostly(st.text(max_size=12)),
}
plain_answer = st.fixed_dictionaries({"question": mostly(ids)}, optional=answer_values)
plausible_bodies = st.fixed_dictionaries({"answers": st.lists(plain_answer, max_size=4)})
odd_bodies = st.one_of(
    st.fixed_dictionaries(
        {"answers": st.lists(st.fixed_dictionaries({"optionz": wild}, optional=answer_values))}
    ),
    st.fixed_dictionaries({"answers": wild}),
    st.fixed_dictionaries({"answers": st.lists(plain_answer, max_size=2), "extra": wild}),
    wild,
)


def by_serializer(body):
    serializer = VoteInputSerializer(data=body)
    return serializer.answer_inputs() if serializer.is_valid() else None


def agrees(body) -> None:
    direct = _plain_answer_inputs(body)
    if direct is not None:
        assert direct == by_serializer(body)


@settings(max_examples=500, deadline=None)
@given(plausible_bodies)
def test_the_direct_reading_agrees_with_the_serializer(body):
    """Whatever an app sends, the direct reading either declines it (the serializer then
    decides) or gives the very answers the serializer gives."""
    agrees(body)


@settings(max_examples=200, deadline=None)
@given(odd_bodies)
def test_odd_bodies_are_declined_or_agree(body):
    agrees(body)


def test_an_apps_body_is_read_directly():
    body = {
        "answers": [
            {"question": 3, "options": [7, 9]},
            {"question": 4, "value": 5},
            {"question": 5, "rows": {"11": 2, "12": 3}},
            {"question": 6, "text": "  Больше лавочек  "},
            {"question": 7, "options": [20], "other_text": "Сквер"},
        ]
    }
    direct = _plain_answer_inputs(body)
    assert direct is not None and direct == by_serializer(body)
    assert direct[2].rows == {11: 2, 12: 3} and direct[3].text == "Больше лавочек"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": [{"question": 1, "optionz": [1]}]}, "optionz"),
        ({"answers": [{"question": 2**40}]}, "question"),
        ({"answers": [{"question": 1, "value": None}]}, "value"),
        ({"answers": [{"question": 1, "text": "a\x00b"}]}, "text"),
        ({"answers": [{"question": 1, "rows": {"x": 1}}]}, "rows"),
    ],
)
def test_a_body_it_declines_gets_the_serializers_message(body, field):
    """Errors name the field, in the serializer's words, as before."""
    assert _plain_answer_inputs(body) is None
    with pytest.raises(ValidationError) as error:
        vote_answer_inputs(body)
    assert field in str(error.value.detail)


def test_a_body_the_serializer_coerces_is_left_to_it():
    """Digits in strings and integral floats are the serializer's to accept."""
    body = {"answers": [{"question": "3", "options": [7.0]}]}
    assert _plain_answer_inputs(body) is None
    assert vote_answer_inputs(body) == by_serializer(body)
