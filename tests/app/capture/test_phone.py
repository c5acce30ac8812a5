"""The phone pairing server, driven by a real HTTP client over 127.0.0.1.

Each refusal the server makes has its own test, named for what it prevents.
"""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
import zxingcpp
from capture_samples import FakeClock, every_frame, jpeg, marker, video

from app.capture.errors import SourceFailed, SourceNotFound
from app.capture.phone import BURST_FRAMES, MAX_WAITING, PhoneSource, TlsFiles, lan_address
from app.capture.source import Frame

LIMIT = 50_000


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def phone(clock: FakeClock) -> Iterator[PhoneSource]:
    source = PhoneSource(
        host="127.0.0.1", clock=clock, max_upload_bytes=LIMIT, uploads_per_minute=5
    )
    source.open()
    yield source
    source.close()


@pytest.fixture
def paired(phone: PhoneSource) -> Iterator[httpx.Client]:
    """The phone that scanned the QR code first."""
    headers = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Safari"}
    with httpx.Client(headers=headers, timeout=10) as client:
        assert client.get(phone.url()).status_code == 303
        yield client


def _base(phone: PhoneSource) -> str:
    return phone.url().split("/p/")[0]


def _upload(client: httpx.Client, phone: PhoneSource, body: bytes) -> httpx.Response:
    return client.post(f"{_base(phone)}/upload", content=body)


def test_pairing_sets_a_session_cookie_and_serves_the_page(phone: PhoneSource) -> None:
    with httpx.Client(timeout=10) as client:
        claim = client.get(phone.url())
        page = client.get(f"{_base(phone)}/capture")
        script = client.get(f"{_base(phone)}/static/phone.js")
        style = client.get(f"{_base(phone)}/static/phone.css")
    assert claim.status_code == 303 and claim.headers["Location"] == "/capture"
    cookie = claim.headers["Set-Cookie"]
    assert cookie.startswith("hallmark_phone=") and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Secure" not in cookie
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Fill the box" in page.text and f'content="{LIMIT}"' in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert style.headers["Content-Type"].startswith("text/css")


def test_an_accepted_upload_arrives_as_a_frame(
    phone: PhoneSource, paired: httpx.Client, clock: FakeClock
) -> None:
    reply = _upload(paired, phone, jpeg(5))
    assert reply.status_code == 200
    assert reply.json() == {"accepted": True, "photo": 1, "width": 96, "height": 64}
    frame = phone.read(timeout=5)
    assert frame is not None
    assert (marker(frame.image), frame.index, frame.source) == (5, 0, "phone")
    assert frame.timestamp == clock.now
    assert phone.read(timeout=0) is None
    device = phone.status().device
    assert device is not None and "iPhone" in device


def test_png_uploads_are_accepted(phone: PhoneSource, paired: httpx.Client) -> None:
    ok, png = cv2.imencode(".png", np.zeros((80, 80, 3), np.uint8))
    assert ok
    assert _upload(paired, phone, png.tobytes()).json()["accepted"] is True


def test_wrong_token_is_forbidden(phone: PhoneSource) -> None:
    with httpx.Client(timeout=10) as client:
        reply = client.get(f"{_base(phone)}/p/not-the-token")
    assert reply.status_code == 403 and "not valid" in reply.text
    assert "Set-Cookie" not in reply.headers


def test_second_phone_can_neither_pair_nor_upload(phone: PhoneSource, paired: httpx.Client) -> None:
    with httpx.Client(timeout=10) as intruder:
        claim = intruder.get(phone.url())
        upload = _upload(intruder, phone, jpeg(1))
        forged = intruder.post(
            f"{_base(phone)}/upload", content=jpeg(1), headers={"Cookie": "hallmark_phone=x"}
        )
    assert claim.status_code == 403 and "Another phone is already paired" in claim.text
    assert upload.status_code == 401 and upload.json()["accepted"] is False
    assert forged.status_code == 401
    assert phone.read(timeout=0) is None


def test_page_needs_the_paired_phone(phone: PhoneSource) -> None:
    with httpx.Client(timeout=10) as stranger:
        assert stranger.get(f"{_base(phone)}/capture").status_code == 401


def test_expired_token_is_gone(phone: PhoneSource, clock: FakeClock) -> None:
    clock.advance(10 * 60 + 1)
    with httpx.Client(timeout=10) as late:
        reply = late.get(phone.url())
    assert reply.status_code == 410 and "expired" in reply.text


def test_oversize_upload_is_refused_before_decoding(
    phone: PhoneSource, paired: httpx.Client
) -> None:
    reply = _upload(paired, phone, jpeg(1) + bytes(LIMIT))
    assert reply.status_code == 413
    assert reply.json() == {
        "accepted": False,
        "reason": f"The photo is {(len(jpeg(1)) + LIMIT) / 1e6:.1f} MB; the limit is 0.1 MB.",
    }


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"%PDF-1.7 not a photo", 415, "Not a photo: send a JPEG, PNG or WebP image."),
        (b"\x00\x00\x00\x18ftypheic" + bytes(64), 415, "HEIC photos cannot be read here."),
        (jpeg(1)[:300], 422, "the image is damaged or truncated"),
    ],
)
def test_non_images_and_damaged_images_are_refused(
    phone: PhoneSource, paired: httpx.Client, body: bytes, status: int, reason: str
) -> None:
    reply = _upload(paired, phone, body)
    assert reply.status_code == status
    assert reply.json()["reason"].startswith(reason)
    assert phone.read(timeout=0) is None


def test_uploads_beyond_the_rate_limit_wait(
    phone: PhoneSource, paired: httpx.Client, clock: FakeClock
) -> None:
    assert [_upload(paired, phone, jpeg(1)).status_code for _ in range(5)] == [200] * 5
    refused = _upload(paired, phone, jpeg(1))
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    clock.advance(60)
    assert _upload(paired, phone, jpeg(1)).status_code == 200


def test_photos_the_desktop_has_not_read_are_capped(clock: FakeClock) -> None:
    phone = PhoneSource(host="127.0.0.1", clock=clock, uploads_per_minute=100)
    with phone, httpx.Client(timeout=10) as client:
        client.get(phone.url())
        codes = [_upload(client, phone, jpeg(1)).status_code for _ in range(MAX_WAITING + 1)]
        assert codes == [200] * MAX_WAITING + [503]
        assert phone.read(timeout=0) is not None
        assert _upload(client, phone, jpeg(1)).status_code == 200


def test_chunked_upload_without_length_is_refused(phone: PhoneSource, paired: httpx.Client) -> None:
    reply = paired.post(f"{_base(phone)}/upload", content=iter([jpeg(1)]))
    assert reply.status_code == 411


@pytest.mark.parametrize(
    "path", ["/static/../phone.py", "/static/%2e%2e/index.html", "/static/", "/", "/p/"]
)
def test_only_known_paths_are_served(phone: PhoneSource, path: str) -> None:
    with httpx.Client(timeout=10) as client:
        reply = client.get(f"{_base(phone)}{path}")
    assert reply.status_code in (403, 404)


def test_renewing_unpairs_the_old_phone(phone: PhoneSource, paired: httpx.Client) -> None:
    old_url = phone.url()
    new_url = phone.renew()
    assert new_url != old_url
    assert _upload(paired, phone, jpeg(1)).status_code == 401
    with httpx.Client(timeout=10) as other:
        assert other.get(old_url).status_code == 403
        assert other.get(new_url).status_code == 303
        assert _upload(other, phone, jpeg(2)).status_code == 200


def test_the_qr_code_holds_the_pairing_url(phone: PhoneSource) -> None:
    png = np.frombuffer(phone.qr_png(scale=6), np.uint8)
    image = cv2.imdecode(png, cv2.IMREAD_COLOR)
    # zxing-cpp, as phones' scanners: OpenCV's QRCodeDetector misread 14 of 300 such codes
    (found,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found.text == phone.url()


def test_the_url_names_the_address_to_advertise(clock: FakeClock) -> None:
    phone = PhoneSource(host="127.0.0.1", advertise_host="192.168.1.23", clock=clock)
    with phone:
        assert phone.url().startswith("http://192.168.1.23:")
    assert ipaddress.ip_address(lan_address()).version == 4


def test_closed_server_stops_listening(clock: FakeClock) -> None:
    phone = PhoneSource(host="127.0.0.1", clock=clock)
    phone.open()
    base = _base(phone)
    phone.close()
    phone.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/capture", timeout=5)
    with pytest.raises(RuntimeError, match="not open"):
        phone.read(timeout=0)


def test_open_failures_are_named(tmp_path: Path, phone: PhoneSource) -> None:
    with pytest.raises(SourceNotFound, match=r"phone page file .*index\.html not found"):
        PhoneSource(host="127.0.0.1", page_dir=tmp_path).open()
    port = int(_base(phone).rsplit(":", 1)[1])
    with pytest.raises(SourceFailed, match=f"cannot listen on 127.0.0.1:{port}"):
        PhoneSource(host="127.0.0.1", port=port).open()


@pytest.fixture
def certificate(tmp_path: Path) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    files = TlsFiles(certificate=tmp_path / "cert.pem", private_key=tmp_path / "key.pem")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(files.private_key), "-out", str(files.certificate)],
        check=True, capture_output=True,
    )  # fmt: skip
    return files


def test_https_with_a_certificate(certificate: TlsFiles, clock: FakeClock) -> None:
    phone = PhoneSource(host="127.0.0.1", tls=certificate, clock=clock)
    trust = ssl.create_default_context(cafile=str(certificate.certificate))
    with phone, httpx.Client(verify=trust, timeout=10) as client:
        assert phone.url().startswith("https://127.0.0.1:")
        claim = client.get(phone.url())
        assert "; Secure" in claim.headers["Set-Cookie"]
        assert _upload(client, phone, jpeg(4)).status_code == 200
        frame = phone.read(timeout=5)
        assert frame is not None and marker(frame.image) == 4
        with pytest.raises(httpx.TransportError):  # plain HTTP to the TLS port
            httpx.get(phone.url().replace("https:", "http:"), timeout=5)


VIDEO_LIMIT = 1_000_000


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder uploads are spooled to: empty again after each video."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def video_phone(clock: FakeClock, spool: Path) -> Iterator[PhoneSource]:
    source = PhoneSource(
        host="127.0.0.1",
        clock=clock,
        videos=True,
        max_video_bytes=VIDEO_LIMIT,
        uploads_per_minute=30,
    )
    with source:
        yield source


@pytest.fixture
def video_paired(video_phone: PhoneSource) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        assert client.get(video_phone.url()).status_code == 303
        yield client


def _read_all(phone: PhoneSource) -> list[Frame]:
    return list(iter(lambda: phone.read(timeout=0), None))


def test_a_tilt_video_arrives_as_evenly_sampled_frames_in_order(
    video_phone: PhoneSource, video_paired: httpx.Client, tmp_path: Path, spool: Path
) -> None:
    body = video(tmp_path, 80)
    reply = _upload(video_paired, video_phone, body)
    assert reply.status_code == 200
    assert reply.json() == {
        "accepted": True, "video": 1, "frames": BURST_FRAMES, "width": 160, "height": 120
    }  # fmt: skip
    frames = _read_all(video_phone)
    (tmp_path / "sent.mp4").write_bytes(body)
    reference = every_frame(tmp_path / "sent.mp4")
    picks = np.linspace(0, 79, BURST_FRAMES).round().astype(int)
    assert [frame.index for frame in frames] == list(range(BURST_FRAMES)) == list(range(60))
    assert all(np.array_equal(f.image, reference[p]) for f, p in zip(frames, picks, strict=True))
    assert list(spool.iterdir()) == []


def test_a_short_video_gives_all_its_frames_and_photos_keep_their_numbers(
    video_phone: PhoneSource, video_paired: httpx.Client, tmp_path: Path, spool: Path
) -> None:
    assert _upload(video_paired, video_phone, jpeg(2)).json()["photo"] == 1
    reply = _upload(video_paired, video_phone, video(tmp_path, 20)).json()
    assert (reply["video"], reply["frames"]) == (1, 20)
    assert _upload(video_paired, video_phone, jpeg(3)).json()["photo"] == 2
    frames = _read_all(video_phone)
    assert [frame.index for frame in frames] == list(range(22))
    assert (marker(frames[0].image), marker(frames[21].image)) == (2, 3)
    levels = [float(frame.image.mean()) for frame in frames[1:21]]
    assert levels == sorted(levels)
    assert list(spool.iterdir()) == []


def test_a_video_waits_whole_beside_photos_and_a_second_waits_its_turn(
    video_phone: PhoneSource, video_paired: httpx.Client, tmp_path: Path
) -> None:
    body = video(tmp_path, 80)
    assert _upload(video_paired, video_phone, body).status_code == 200
    second = _upload(video_paired, video_phone, body)  # 120 frames would wait: too many
    assert second.status_code == 503 and "busy with earlier uploads" in second.json()["reason"]
    photos = [_upload(video_paired, video_phone, jpeg(1)).status_code for _ in range(MAX_WAITING)]
    assert photos == [200] * (MAX_WAITING - 1) + [503]  # the video counts as one upload
    frames = _read_all(video_phone)
    assert [frame.index for frame in frames] == list(range(BURST_FRAMES + MAX_WAITING - 1))
    assert _upload(video_paired, video_phone, body).status_code == 200
    assert len(_read_all(video_phone)) == BURST_FRAMES


def test_videos_are_refused_when_the_page_takes_photos_only(
    phone: PhoneSource, paired: httpx.Client, tmp_path: Path
) -> None:
    reply = _upload(paired, phone, video(tmp_path, 20))
    assert reply.status_code == 415
    assert reply.json()["reason"] == "This page takes photos only: send a JPEG, PNG or WebP image."
    assert phone.read(timeout=0) is None


def _half(body: bytes) -> bytes:
    return body[: len(body) // 2]


def _garbage_after_ftyp(body: bytes) -> bytes:
    return body[:32] + bytes(range(256)) * 40


def _garbage_in_an_mdat_box(body: bytes) -> bytes:
    ftyp = body[: int.from_bytes(body[:4], "big")]
    return ftyp + (8 + 10_000).to_bytes(4, "big") + b"mdat" + bytes(range(250)) * 40


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_half, "the video is cut short"),
        (_garbage_after_ftyp, "the video is cut short: it declares"),
        (_garbage_in_an_mdat_box, "the video does not decode"),
    ],
)
def test_damaged_videos_are_unprocessable(
    video_phone: PhoneSource,
    video_paired: httpx.Client,
    tmp_path: Path,
    spool: Path,
    damage: Callable[[bytes], bytes],
    reason: str,
) -> None:
    reply = _upload(video_paired, video_phone, damage(video(tmp_path, 80)))
    assert reply.status_code == 422
    assert reply.json()["accepted"] is False and reply.json()["reason"].startswith(reason)
    assert video_phone.read(timeout=0) is None
    assert list(spool.iterdir()) == []


def test_oversize_video_is_refused_before_reading(
    video_phone: PhoneSource, video_paired: httpx.Client, tmp_path: Path, spool: Path
) -> None:
    body = video(tmp_path, 20) + bytes(VIDEO_LIMIT)
    reply = _upload(video_paired, video_phone, body)
    assert reply.status_code == 413
    assert reply.json()["reason"] == f"The video is {len(body) / 1e6:.1f} MB; the limit is 1.0 MB."
    assert list(spool.iterdir()) == []


def test_the_page_is_told_whether_videos_are_taken(
    video_phone: PhoneSource, video_paired: httpx.Client, phone: PhoneSource, paired: httpx.Client
) -> None:
    with_videos = video_paired.get(f"{_base(video_phone)}/capture").text
    photos_only = paired.get(f"{_base(phone)}/capture").text
    meta = '<meta name="hallmark-max-video-bytes" content="{}">'
    assert meta.format(VIDEO_LIMIT) in with_videos and meta.format(0) in photos_only
    assert 'accept="video/*" capture="environment"' in with_videos
    assert "tilt the item slowly towards every side for 3–5 seconds" in with_videos.lower()


def test_a_video_that_cannot_be_spooled_is_a_server_error(
    video_phone: PhoneSource,
    video_paired: httpx.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    reply = _upload(video_paired, video_phone, video(tmp_path, 20))
    assert reply.status_code == 500
    assert reply.json()["reason"].startswith("The desktop cannot store the video to read it: ")


def test_neither_photo_nor_video_is_unsupported(
    video_phone: PhoneSource, video_paired: httpx.Client
) -> None:
    reply = _upload(video_paired, video_phone, b"%PDF-1.7 not a photo")
    assert reply.status_code == 415
    assert reply.json()["reason"] == (
        "Not a photo or video: send a JPEG, PNG or WebP image, or a video."
    )
