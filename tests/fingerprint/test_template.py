import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fingerprint
from fingerprint import Template, TemplateFormatError


def test_round_trip_is_exact(enrolled: Template) -> None:
    data = enrolled.to_bytes()
    again = Template.from_bytes(data)
    assert again.to_bytes() == data
    assert again.digest() == enrolled.digest()
    assert np.array_equal(again.features.residual, enrolled.features.residual)
    assert again.code_text == enrolled.code_text


def test_same_image_same_bytes(scene, enrolled: Template) -> None:  # type: ignore[no-untyped-def]
    assert fingerprint.extract(scene.enrol.copy()).to_bytes() == enrolled.to_bytes()


def test_digest_is_sha256_hex(enrolled: Template) -> None:
    assert len(enrolled.digest()) == 64
    int(enrolled.digest(), 16)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: b"", "not a Hallmark template"),
        (lambda d: b"PNG\x00" + d[4:], "not a Hallmark template"),
        (lambda d: d[:4] + b"\x09\x00" + d[6:], "version 9"),
        (lambda d: d[:-1], "truncated"),
        (lambda d: d + b"\x00", "trailing"),
        (lambda d: d[:14] + b"\x07" + d[15:], "flags"),
    ],
)
def test_corrupt_bytes_are_refused(enrolled: Template, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TemplateFormatError, match=message):
        Template.from_bytes(mutate(enrolled.to_bytes()))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_truncation_is_refused(enrolled: Template, data: st.DataObject) -> None:
    raw = enrolled.to_bytes()
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(TemplateFormatError):
        Template.from_bytes(raw[:cut])


@settings(max_examples=60, deadline=None)
@given(blob=st.binary(max_size=4096))
def test_random_bytes_never_crash(blob: bytes) -> None:
    with contextlib.suppress(TemplateFormatError):
        Template.from_bytes(blob)
