"""The ``hallmark`` command line, driven in-process on small synthetic data."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import cv2
import pytest

from app import __version__
from app.cli import main
from fingerprint.synth import Material, Tier, write_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dataset")
    write_dataset(
        out,
        items_per_material=2,
        captures_per_item=1,
        tier=Tier.EASY,
        seed=5,
        materials=(Material.PAPER, Material.PLASTIC),
    )
    return out


def _rows(dataset: Path) -> list[dict[str, str]]:
    with (dataset / "manifest.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_compare_scores_each_pair_and_reports_broken_images(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _rows(dataset)
    enrol = next(r for r in rows if r["role"] == "enrol")
    genuine = next(r for r in rows if r["role"] == "genuine" and r["item_id"] == enrol["item_id"])
    other = next(r for r in rows if r["role"] == "genuine" and r["item_id"] != enrol["item_id"])
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(
        "reference,probe\n"
        f"{dataset / enrol['path']},{dataset / genuine['path']}\n"
        f"{dataset / enrol['path']},{dataset / other['path']}\n"
        f"{dataset / enrol['path']},broken.jpg\n"
    )
    out = tmp_path / "scores.csv"
    assert main(["compare", "--pairs", str(pairs), "--out", str(out)]) == 1
    with out.open() as handle:
        scores = list(csv.DictReader(handle))
    assert [s["decision"] for s in scores] == ["genuine", "counterfeit", "error"]
    assert float(scores[0]["score"]) > float(scores[1]["score"])
    assert scores[2]["score"] == ""
    assert "broken.jpg" in capsys.readouterr().err


def test_compare_refuses_a_bad_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("a,b\nx.png,y.png\n")
    assert main(["compare", "--pairs", str(pairs), "--out", str(tmp_path / "s.csv")]) == 2
    assert "header must be 'reference,probe'" in capsys.readouterr().err
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read {path}: No such file or directory"),
        (b"reference,probe\n\xff\xfe.png,y.png\n", "{path} is not UTF-8 text (byte 16)"),
    ],
)
def test_compare_says_why_the_pairs_file_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    pairs = tmp_path / "pairs.csv"
    if content is not None:
        pairs.write_bytes(content)
    assert main(["compare", "--pairs", str(pairs), "--out", str(tmp_path / "s.csv")]) == 2
    assert capsys.readouterr().err == f"hallmark: error: {message.format(path=pairs)}\n"


def test_a_missing_file_is_named_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.hmh"
    assert main(["holo", "match", str(missing), str(missing)]) == 2
    assert capsys.readouterr().err == f"hallmark: error: {missing}: No such file or directory\n"


def test_eval_writes_json_png_and_html(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", str(dataset), "--out", str(tmp_path / "report")]) == 0
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    names = [g["name"] for g in report["groups"]]
    assert names == ["paper", "plastic", "overall"]
    assert cv2.imread(str(tmp_path / "report" / "det.png")) is not None
    assert "<table>" in (tmp_path / "report" / "report.html").read_text()
    out = capsys.readouterr().out
    assert "overall" in out
    assert "print copies at FRR ≤ 1% (" in out and "of 4 accepted" in out
    assert "decisions: genuine " in out
    overall = report["groups"][-1]
    assert overall["print_copy_at_target_frr"]["attacks"] == 4


def test_an_item_whose_enrolment_code_is_not_read_is_a_failure_to_enrol(
    dataset: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "dataset"
    shutil.copytree(dataset, copy)
    enrol = next(r for r in _rows(copy) if r["role"] == "enrol" and r["material"] == "paper")
    image = cv2.imread(str(copy / enrol["path"]))
    cv2.imwrite(str(copy / enrol["path"]), cv2.GaussianBlur(image, (0, 0), 8))  # code unread
    assert main(["eval", str(copy), "--out", str(tmp_path / "report")]) == 0
    groups = {
        g["name"]: g
        for g in json.loads((tmp_path / "report" / "report.json").read_text())["groups"]
    }
    assert groups["paper"]["failure_to_enrol"] == 0.5  # one of the two paper items
    assert groups["plastic"]["failure_to_enrol"] == 0.0
    assert groups["overall"]["failure_to_enrol"] == 0.25
    assert groups["paper"]["genuine_pairs"] == 1  # the other paper item's capture only


def test_eval_without_manifest_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(tmp_path)]) == 2
    assert "no manifest.csv" in capsys.readouterr().err


def test_extract_then_match(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _rows(dataset)
    enrol = next(r for r in rows if r["role"] == "enrol")
    genuine = next(r for r in rows if r["role"] == "genuine" and r["item_id"] == enrol["item_id"])
    template = tmp_path / "item.hmfp"
    assert main(["extract", str(dataset / enrol["path"]), "--out", str(template)]) == 0
    assert main(["match", str(template), str(dataset / genuine["path"])]) == 0
    assert "GENUINE" in capsys.readouterr().out


def test_match_reports_an_unreadable_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "x.png"
    bad.write_text("hello")
    assert main(["match", str(bad), str(bad)]) == 2
    assert "not an image" in capsys.readouterr().err


def test_demo_prints_verdicts_and_the_report_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path / "demo"), "--items", "2"]) == 0
    out = capsys.readouterr().out
    assert "genuine" in out and "print_copy" in out
    assert str((tmp_path / "demo" / "report" / "report.html").resolve()) in out
    assert (tmp_path / "demo" / "report" / "report.html").is_file()
