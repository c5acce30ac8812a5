"""Tests of the synthetic item, capture and attack generator (``fingerprint.synth``)."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import cv2
import numpy as np
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from fingerprint import gs1
from fingerprint.region import RegionSpec
from fingerprint.synth import (
    CODE_MODULES,
    MANIFEST_HEADER,
    SURFACE_PX_PER_MODULE,
    Capture,
    Item,
    ManifestRow,
    Material,
    Role,
    Tier,
    capture,
    capture_jpeg,
    capture_with_truth,
    copied_serial,
    make_item,
    print_copy,
    read_manifest,
    render,
    sample_params,
    twin,
    write_dataset,
    write_manifest,
)
from fingerprint.synth.gs1 import datamatrix_modules, element_string
from fingerprint.synth.label import artwork

Attack = Callable[[Item, np.random.Generator], Item]
ATTACKS: dict[str, Attack] = {
    "copied_serial": copied_serial,
    "print_copy": print_copy,
    "twin": twin,
}
SAMPLES_PER_TIER = {Tier.EASY: 20, Tier.MEDIUM: 20, Tier.HARD: 8}


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(list(key))


def _window_px(item: Item) -> NDArray[np.float64]:
    """Corners of the fingerprint window in surface pixel coordinates, shape (4, 2)."""
    return np.asarray(item.code_origin_px) + SURFACE_PX_PER_MODULE * RegionSpec().corners()


def _window(item: Item) -> NDArray[np.float32]:
    """The pixels of the fingerprint window on the item's surface."""
    (x0, y0), (x1, y1) = np.rint(_window_px(item)[[0, 2]] + 0.5).astype(int)
    return item.surface[y0:y1, x0:x1].astype(np.float32)


def _blur(image: NDArray[np.float32], sigma: float) -> NDArray[np.float32]:
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.float32)


def _coarse(image: NDArray[np.float32]) -> NDArray[np.float32]:
    """Structure coarser than ~25 px wavelength."""
    return _blur(image, 4.0)


def _fine(image: NDArray[np.float32]) -> NDArray[np.float32]:
    """Structure finer than ~6 px wavelength."""
    return image - _blur(image, 1.0)


def _correlation(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def _project(points: NDArray[np.float64], homography: NDArray[np.float64]) -> NDArray[np.float64]:
    mapped = np.c_[points, np.ones(len(points))] @ homography.T
    return np.asarray(mapped[:, :2] / mapped[:, 2:])


def _decoded(image: NDArray[np.uint8]) -> list[str]:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return [r.text for r in zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.DataMatrix)]


@pytest.fixture(scope="module")
def items() -> dict[Material, Item]:
    return {m: make_item(_rng(1, i), m, 100 + i) for i, m in enumerate(Material)}


@pytest.fixture(scope="module")
def captures(items: dict[Material, Item]) -> dict[Tier, list[tuple[Item, Capture]]]:
    pool = list(items.values())
    return {
        tier: [
            (pool[k % len(pool)], capture_with_truth(pool[k % len(pool)], _rng(2, t, k), tier))
            for k in range(SAMPLES_PER_TIER[tier])
        ]
        for t, tier in enumerate(Tier)
    }


# --- GS1 -------------------------------------------------------------------------------


def test_items_carry_a_valid_fixed_length_gs1_string(items: dict[Material, Item]) -> None:
    pattern = re.compile(r"\(01\)(\d{14})\(17\)\d{6}\(10\)B\d{4}\(21\)SN\d{6}")
    for item in items.values():
        match = pattern.fullmatch(item.gs1)
        assert match is not None, item.gs1
        assert gs1.parse(item.gs1).gtin == match.group(1)  # checks the check digit
    assert len({item.gs1 for item in items.values()}) == len(items)


@pytest.mark.parametrize("serial", [0, 1, 123_456, 999_999])
def test_every_serial_encodes_to_a_22x22_symbol(serial: int) -> None:
    assert datamatrix_modules(element_string(product=999, serial=serial)).shape == (22, 22)


def test_out_of_range_serial_is_refused() -> None:
    with pytest.raises(ValueError, match="serial"):
        element_string(product=10, serial=1_000_000)


# --- items -----------------------------------------------------------------------------


@pytest.mark.parametrize("material", list(Material))
def test_make_item_is_deterministic(material: Material) -> None:
    first, second = make_item(_rng(7), material, 3), make_item(_rng(7), material, 3)
    assert first.item_id == second.item_id == f"{material}-0003"
    assert np.array_equal(first.surface, second.surface)
    assert not np.array_equal(first.surface, make_item(_rng(8), material, 3).surface)


def test_item_surface_is_read_only(items: dict[Material, Item]) -> None:
    surface = items[Material.PAPER].surface
    with pytest.raises(ValueError, match="read-only"):
        surface[0, 0] = 0


def test_the_printed_code_decodes_from_the_surface(items: dict[Material, Item]) -> None:
    for item in items.values():
        assert _decoded(cv2.cvtColor(item.surface, cv2.COLOR_GRAY2BGR)) == [item.gs1]


def test_code_origin_matches_the_printed_modules(items: dict[Material, Item]) -> None:
    item = items[Material.PLASTIC]
    x0, y0 = (round(v + 0.5) for v in item.code_origin_px)
    size = CODE_MODULES * SURFACE_PX_PER_MODULE
    centres = item.surface[y0 : y0 + size, x0 : x0 + size][8::16, 8::16]
    assert np.array_equal(centres < 128, datamatrix_modules(item.gs1))


def test_window_is_bare_material_inside_the_label(items: dict[Material, Item]) -> None:
    item = items[Material.LEATHER]
    corners = _window_px(item)
    height, width = item.surface.shape
    assert corners.min() > 0 and corners[:, 0].max() < width and corners[:, 1].max() < height
    (x0, y0), (x1, y1) = np.rint(corners[[0, 2]] + 0.5).astype(int)
    assert not artwork(item.gs1).footprint(margin_px=4)[y0:y1, x0:x1].any()


def test_items_of_one_material_are_independent_at_fine_scale() -> None:
    for material in Material:
        a, b = (_window(make_item(_rng(3, k), material, k)) for k in range(2))
        assert abs(_correlation(_fine(a), _fine(b))) < 0.1, material


def test_photo_items_from_the_same_photograph_differ() -> None:
    # items whose serials differ by 3 are cut from the same photograph
    a, b = (_window(make_item(_rng(4, k), Material.PHOTO, k)) for k in (0, 3))
    assert abs(_correlation(_fine(a), _fine(b))) < 0.1
    assert abs(_correlation(a - _blur(a, 6.0), b - _blur(b, 6.0))) < 0.2


# --- captures --------------------------------------------------------------------------


def test_capture_is_deterministic(items: dict[Material, Item]) -> None:
    item = items[Material.PHOTO]
    first = capture_with_truth(item, _rng(5), Tier.HARD)
    second = capture_with_truth(item, _rng(5), Tier.HARD)
    assert first.jpeg == second.jpeg
    assert np.array_equal(first.homography, second.homography)
    assert first.params == second.params
    assert np.array_equal(capture(item, _rng(5), Tier.HARD), first.image)
    assert capture_jpeg(item, _rng(5), Tier.HARD) == first.jpeg


def test_capture_frame_shape_and_size(items: dict[Material, Item]) -> None:
    image = capture(items[Material.PRINT], _rng(6), Tier.EASY, size=(640, 480))
    assert image.shape == (480, 640, 3) and image.dtype == np.uint8
    with pytest.raises(ValueError, match="even"):
        capture(items[Material.PRINT], _rng(6), size=(641, 480))


@pytest.mark.parametrize("tier", [Tier.EASY, Tier.MEDIUM])
def test_code_decodes_in_nearly_all_captures(
    captures: dict[Tier, list[tuple[Item, Capture]]], tier: Tier
) -> None:
    decoded = sum(item.gs1 in _decoded(shot.image) for item, shot in captures[tier])
    assert decoded >= 0.95 * SAMPLES_PER_TIER[tier]


@pytest.mark.parametrize("tier", list(Tier))
def test_window_and_label_are_inside_the_frame(
    captures: dict[Tier, list[tuple[Item, Capture]]], tier: Tier
) -> None:
    for item, shot in captures[tier]:
        height, width = shot.image.shape[:2]
        h, w = item.surface.shape
        label = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
        for corners in (_window_px(item), label):
            projected = _project(corners, shot.homography)
            assert projected.min() >= 0
            assert projected[:, 0].max() < width and projected[:, 1].max() < height


def test_tier_bounds_the_tilt(captures: dict[Tier, list[tuple[Item, Capture]]]) -> None:
    for tier, limit in ((Tier.EASY, 5), (Tier.MEDIUM, 15), (Tier.HARD, 25)):
        assert all(0 <= shot.params.tilt_deg <= limit for _, shot in captures[tier])
        assert all(60 <= shot.params.jpeg_quality <= 95 for _, shot in captures[tier])


def test_homography_maps_the_code_onto_the_decoded_symbol(
    captures: dict[Tier, list[tuple[Item, Capture]]],
) -> None:
    for item, shot in captures[Tier.EASY]:
        grey = cv2.cvtColor(shot.image, cv2.COLOR_BGR2GRAY)
        (found,) = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.DataMatrix)
        p = found.position
        corners = [p.top_left, p.top_right, p.bottom_right, p.bottom_left]
        seen = np.array([[c.x, c.y] for c in corners], dtype=np.float64)
        code = np.asarray(item.code_origin_px) + SURFACE_PX_PER_MODULE * CODE_MODULES * np.array(
            [[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float64
        )
        assert np.abs(seen - _project(code, shot.homography)).max() < 4.0


def _rectified_window(item: Item, shot: Capture) -> NDArray[np.float32]:
    """The window resampled from a capture at 8 px per module (inner part)."""
    scale = SURFACE_PX_PER_MODULE / 8
    origin = _window_px(item)[0] + 0.5 * scale - 0.5
    to_surface = np.array([[scale, 0, origin[0]], [0, scale, origin[1]], [0, 0, 1]])
    grey = cv2.cvtColor(shot.image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    size = RegionSpec().width * 8, RegionSpec().height * 8
    window = cv2.warpPerspective(
        grey,
        shot.homography @ to_surface,
        (int(size[0]), int(size[1])),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
    )
    return np.asarray(window[8:-8, 8:-8], dtype=np.float32)


@pytest.mark.parametrize("material", list(Material))
def test_small_captures_still_carry_the_item_fingerprint(
    items: dict[Material, Item], material: Material
) -> None:
    item = items[material]

    def shot(subject: Item, k: int) -> NDArray[np.float32]:
        params = dataclasses.replace(sample_params(_rng(9, k), Tier.EASY), scale=0.7)
        window = _rectified_window(subject, render(subject, params, _rng(10, k), tier=Tier.EASY))
        return window - _blur(window, 3.0)

    genuine = _correlation(shot(item, 0), shot(item, 1))
    impostor = _correlation(shot(item, 0), shot(copied_serial(item, _rng(11)), 2))
    assert genuine > 0.5
    assert abs(impostor) < 0.15


# --- attacks ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attacks_keep_the_gs1_and_are_deterministic(items: dict[Material, Item], name: str) -> None:
    target = items[Material.PAPER]
    fake = ATTACKS[name](target, _rng(12))
    assert fake.gs1 == target.gs1 and fake.material == target.material
    assert fake.item_id != target.item_id and name in fake.item_id
    assert fake.code_origin_px == target.code_origin_px
    assert not np.array_equal(fake.surface, target.surface)
    assert np.array_equal(ATTACKS[name](target, _rng(12)).surface, fake.surface)
    assert _decoded(cv2.cvtColor(fake.surface, cv2.COLOR_GRAY2BGR)) == [target.gs1]


@pytest.mark.parametrize("material", list(Material))
def test_twin_shares_coarse_but_not_fine_structure(
    items: dict[Material, Item], material: Material
) -> None:
    target = _window(items[material])
    fake = _window(twin(items[material], _rng(13), cutoff_px=8.0))
    assert _correlation(_coarse(target), _coarse(fake)) > 0.9
    assert _correlation(_fine(target), _fine(fake)) < 0.4


def test_twin_cutoff_sets_how_much_is_shared(items: dict[Material, Item]) -> None:
    target = _window(items[Material.PLASTIC])

    def mid(image: NDArray[np.float32]) -> NDArray[np.float32]:
        return _blur(image, 1.5) - _blur(image, 4.0)

    close = _window(twin(items[Material.PLASTIC], _rng(16), cutoff_px=8.0))
    loose = _window(twin(items[Material.PLASTIC], _rng(16)))
    assert _correlation(mid(target), mid(close)) > _correlation(mid(target), mid(loose)) + 0.2


@pytest.mark.parametrize("material", list(Material))
def test_print_copy_keeps_coarse_and_loses_fine_structure(
    items: dict[Material, Item], material: Material
) -> None:
    target = _window(items[material])
    fake = _window(print_copy(items[material], _rng(14)))
    assert _correlation(_coarse(target), _coarse(fake)) > 0.6
    assert _correlation(_fine(target), _fine(fake)) < 0.35


@pytest.mark.parametrize("material", list(Material))
def test_copied_serial_is_an_unrelated_surface(
    items: dict[Material, Item], material: Material
) -> None:
    target = _window(items[material])
    fake = _window(copied_serial(items[material], _rng(15)))
    assert abs(_correlation(_fine(target), _fine(fake))) < 0.1


# --- dataset and manifest --------------------------------------------------------------


#: One MEDIUM item of one material: the smallest dataset (captures and materials to add).
_one_item = functools.partial(write_dataset, items_per_material=1, tier=Tier.MEDIUM, seed=5)


def test_write_dataset(tmp_path: Path) -> None:
    write = functools.partial(_one_item, captures_per_item=2, materials=[Material.LEATHER])
    manifest = write(tmp_path / "a")
    rows = read_manifest(manifest)
    assert manifest.read_text().splitlines()[0] == ",".join(MANIFEST_HEADER)
    assert [row.role for row in rows] == [Role.ENROL, Role.GENUINE, *list(Role)[1:]]
    assert len(rows) == 1 + 2 + 3
    assert {row.target_item for row in rows} == {"leather-0000"}
    for row in rows:
        assert row.tier == (Tier.EASY if row.role == Role.ENROL else Tier.MEDIUM)
        image = cv2.imread(str(manifest.parent / row.path))
        assert image is not None and image.shape == (960, 1280, 3)
    again = write(tmp_path / "b")
    for row in rows:
        assert (manifest.parent / row.path).read_bytes() == (again.parent / row.path).read_bytes()


def test_more_print_copies_add_files_and_change_none(tmp_path: Path) -> None:
    write = functools.partial(_one_item, captures_per_item=1, materials=[Material.PAPER])
    one = read_manifest(write(tmp_path / "one"))
    three = read_manifest(write(tmp_path / "three", print_copies_per_item=3))
    assert three[: len(one)] == one
    extra = three[len(one) :]
    assert [row.role for row in extra] == [Role.PRINT_COPY] * 2
    assert [row.item_id for row in extra] == [
        "paper-0000~print_copy-01",
        "paper-0000~print_copy-02",
    ]
    for row in one:
        assert (tmp_path / "one" / row.path).read_bytes() == (
            tmp_path / "three" / row.path
        ).read_bytes()
    copies = {
        (tmp_path / "three" / row.path).read_bytes() for row in three if row.role == Role.PRINT_COPY
    }
    assert len(copies) == 3


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"items_per_material": 0}, "items_per_material"),
        ({"print_copies_per_item": 0}, "print_copies_per_item"),
        ({"materials": [Material.PAPER, Material.PAPER]}, "distinct materials"),
    ],
)
def test_write_dataset_refuses_bad_arguments(
    tmp_path: Path, bad: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _one_item(tmp_path, captures_per_item=1, **bad)  # type: ignore[arg-type]


_segment = st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,7}", fullmatch=True).filter(
    lambda s: s not in {".", ".."}
)
_ident = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1)


@st.composite
def _manifest_rows(draw: st.DrawFn) -> ManifestRow:
    role = draw(st.sampled_from(Role))
    item_id = draw(_ident)
    target = (
        item_id
        if role in (Role.ENROL, Role.GENUINE)
        else draw(_ident.filter(lambda s: s != item_id))
    )
    return ManifestRow(
        path=PurePosixPath(*draw(st.lists(_segment, min_size=1, max_size=3))),
        item_id=item_id,
        material=draw(st.sampled_from(Material)),
        role=role,
        target_item=target,
        tier=draw(st.sampled_from(Tier)),
    )


@settings(max_examples=30)
@given(st.lists(_manifest_rows(), max_size=6, unique_by=lambda row: row.path))
def test_manifest_round_trip(
    tmp_path_factory: pytest.TempPathFactory, rows: list[ManifestRow]
) -> None:
    path = tmp_path_factory.mktemp("manifest") / "manifest.csv"
    write_manifest(path, rows)
    assert read_manifest(path) == rows


_HEADER = ",".join(MANIFEST_HEADER)
_GOOD = "a/enrol.jpg,paper-0000,paper,enrol,paper-0000,easy"


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (["path,item,material,role,target_item,tier", _GOOD], 1, "header"),
        ([], 1, "header"),
        ([_HEADER, _GOOD, "b.jpg,paper-0000,paper,genuine,paper-0000"], 3, "6 fields"),
        ([_HEADER, "b.jpg,x,wood,genuine,x,easy"], 2, "material"),
        ([_HEADER, "b.jpg,x,paper,forged,x,easy"], 2, "role"),
        ([_HEADER, "b.jpg,x,paper,genuine,x,extreme"], 2, "tier"),
        ([_HEADER, "/etc/b.jpg,x,paper,genuine,x,easy"], 2, "relative"),
        ([_HEADER, "../b.jpg,x,paper,genuine,x,easy"], 2, "relative"),
        ([_HEADER, ",x,paper,genuine,x,easy"], 2, "relative"),
        ([_HEADER, "b.jpg,,paper,genuine,,easy"], 2, "empty"),
        ([_HEADER, 'b.jpg,"x\ty",paper,genuine,"x\ty",easy'], 2, "control"),
        ([_HEADER, "b.jpg,x,paper,genuine,y,easy"], 2, "equal"),
        ([_HEADER, "b.jpg,x,paper,twin,x,easy"], 2, "differ"),
        ([_HEADER, _GOOD, _GOOD], 3, "twice"),
        ([_HEADER, 'b.jpg,"x,paper,genuine,x,easy'], 2, "fields"),
    ],
)
def test_malformed_manifest_names_file_and_line(
    tmp_path: Path, lines: list[str], line: int, message: str
) -> None:
    path = tmp_path / "manifest.csv"
    path.write_text("".join(f"{text}\n" for text in lines), encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}:{line}: .*{message}"):
        read_manifest(path)


def test_manifest_that_is_not_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="not UTF-8"):
        read_manifest(path)
