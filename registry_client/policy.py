"""The verifier's trust policy: which logs, witnesses, manufacturers and devices it believes.

The file follows C2SP tlog-policy, plus two Hallmark line types::

    log <vkey> [<url>]                    a trusted log (Ed25519, key name = origin)
    witness <name> <vkey> [<url>]         a witness (cosignature/v1 key, type 0x04)
    group <name> all|any|<k> <name>...    k of these witnesses or groups
    quorum <name>|none                    exactly once: what must cosign a checkpoint
    manufacturer <vkey>                   Hallmark: a trusted record-signing key
    device <vkey>                         Hallmark: a trusted scanner (signs verifications)

Items are separated by spaces or tabs; blank lines and lines starting with ``#`` are
ignored; a group or the quorum may only name witnesses and groups defined on earlier
lines; witnesses and groups share one namespace in which ``none`` is reserved. A group
needs at least one member, so a quorum can never be met vacuously.
`TrustPolicy.verify_checkpoint` is the one verification a client needs.

References
----------
https://c2sp.org/tlog-policy, https://c2sp.org/tlog-checkpoint
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from registry_client.checkpoint import VerifiedCheckpoint, open_checkpoint
from registry_client.errors import CheckpointError, RecordFormatError
from registry_client.note import KeyId, KeyType, VerifierKey

NONE = "none"
"""The predefined quorum that needs no cosignature (tlog-policy §Defining the quorum)."""
MAX_POLICY_SIZE = 1024 * 1024
"""Largest policy text accepted, in bytes."""

_SEPARATORS = re.compile(r"[ \t]+")
_THRESHOLD = re.compile(r"all|any|[1-9][0-9]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class Log:
    """A trusted log: its Ed25519 key, named like its checkpoints' origin line."""

    key: VerifierKey
    url: str | None = None

    def __post_init__(self) -> None:
        self.key.check_type(KeyType.ED25519, "log")
        _check_url(self.url)


@dataclass(frozen=True, slots=True, kw_only=True)
class Witness:
    """A witness known as ``name`` in this policy, with its cosignature/v1 key."""

    name: str
    key: VerifierKey
    url: str | None = None

    def __post_init__(self) -> None:
        _check_name(self.name)
        self.key.check_type(KeyType.COSIGNATURE_V1, "witness")
        _check_url(self.url)


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    """Satisfied when at least ``threshold`` of its ``members`` are."""

    name: str
    threshold: int
    members: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not self.members:
            raise ValueError(f"group {self.name} has no members; want at least one")
        if len(set(self.members)) != len(self.members):
            raise ValueError(f"group {self.name} lists a member twice: {self.members}")
        if not 1 <= self.threshold <= len(self.members):
            raise ValueError(
                f"group {self.name} threshold is {self.threshold}, want 1 to {len(self.members)}"
            )

    def format(self) -> str:
        """The ``group`` line, with ``any``/``all`` where they apply."""
        k = {1: "any", len(self.members): "all"}.get(self.threshold, str(self.threshold))
        return " ".join(("group", self.name, k, *self.members))


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustPolicy:
    """Logs, witnesses, groups, a quorum, trusted manufacturer and device keys, all checked.

    Groups may name witnesses and earlier groups; the quorum names a witness, a group
    or `NONE`. No public key appears twice among logs, witnesses, manufacturers or
    devices, and no two manufacturer (or device) keys share a ``name+hash`` reference.
    """

    logs: tuple[Log, ...]
    witnesses: tuple[Witness, ...]
    groups: tuple[Group, ...]
    quorum: str
    manufacturers: tuple[VerifierKey, ...] = ()
    devices: tuple[VerifierKey, ...] = ()

    def __post_init__(self) -> None:
        builder = _Builder()
        for log in self.logs:
            builder.add_log(log)
        for witness in self.witnesses:
            builder.add_witness(witness)
        for group in self.groups:
            builder.add_group(group)
        builder.set_quorum(self.quorum)
        for key in self.manufacturers:
            builder.add_manufacturer(key)
        for key in self.devices:
            builder.add_device(key)

    @classmethod
    def parse(cls, text: str | bytes) -> TrustPolicy:
        """Parse policy text; raises `RecordFormatError` naming the line and reason."""
        size = len(text if isinstance(text, bytes) else text.encode())
        if size > MAX_POLICY_SIZE:
            raise RecordFormatError(f"policy is {size} bytes, want at most {MAX_POLICY_SIZE}")
        try:
            source = text.decode("utf-8") if isinstance(text, bytes) else text
        except UnicodeDecodeError as exc:
            raise RecordFormatError(f"policy is not UTF-8: {exc}") from exc
        builder = _Builder()
        for number, line in enumerate(source.split("\n"), start=1):
            try:
                _parse_line(line, builder)
            except RecordFormatError as exc:
                raise RecordFormatError(exc.reason, field=f"line {number}") from exc
            except ValueError as exc:
                raise RecordFormatError(str(exc), field=f"line {number}") from exc
        if builder.quorum is None:
            raise RecordFormatError("policy has no quorum line; want exactly one")
        return cls(
            logs=tuple(builder.logs),
            witnesses=tuple(builder.witnesses),
            groups=tuple(builder.groups),
            quorum=builder.quorum,
            manufacturers=tuple(builder.manufacturers),
            devices=tuple(builder.devices),
        )

    def format(self) -> str:
        """The policy as text that `parse` reads back to an equal policy."""
        lines = [
            *(_join("log", log.key.format(), log.url) for log in self.logs),
            *(_join("witness", w.name, w.key.format(), w.url) for w in self.witnesses),
            *(group.format() for group in self.groups),
            f"quorum {self.quorum}",
            *(f"manufacturer {key.format()}" for key in self.manufacturers),
            *(f"device {key.format()}" for key in self.devices),
        ]
        return "".join(line + "\n" for line in lines)

    def verify_checkpoint(self, note_text: str | bytes) -> VerifiedCheckpoint:
        """Accept a checkpoint note signed by a listed log and cosigned to the quorum.

        The origin must equal the signing log key's name. Raises `SignatureError` for a
        bad signature or none by a listed log, and `CheckpointError` for a malformed
        checkpoint or an unmet quorum.
        """
        verified = open_checkpoint(
            note_text,
            (log.key for log in self.logs),
            (witness.key for witness in self.witnesses),
        )
        cosigned = {w.name for w in self.witnesses if w.key in verified.witnesses}
        if not self._satisfied(self.quorum, cosigned):
            raise CheckpointError(
                f"witness quorum {self.quorum!r} not met; cosigned by {sorted(cosigned) or 'none'}"
            )
        return verified

    def _satisfied(self, name: str, cosigned: set[str]) -> bool:
        group = next((g for g in self.groups if g.name == name), None)
        if group is None:
            return name == NONE or name in cosigned
        return sum(self._satisfied(m, cosigned) for m in group.members) >= group.threshold


class _Builder:
    """Checks entries one at a time, in definition order (tlog-policy §Structure)."""

    __slots__ = (
        "_names",
        "_public_keys",
        "devices",
        "groups",
        "logs",
        "manufacturers",
        "quorum",
        "witnesses",
    )

    def __init__(self) -> None:
        self.logs: list[Log] = []
        self.witnesses: list[Witness] = []
        self.groups: list[Group] = []
        self.quorum: str | None = None
        self.manufacturers: list[VerifierKey] = []
        self.devices: list[VerifierKey] = []
        self._names: set[str] = set()
        self._public_keys: set[bytes] = set()

    def add_log(self, log: Log) -> None:
        self._claim_key(log.key)
        self.logs.append(log)

    def add_witness(self, witness: Witness) -> None:
        self._claim_name(witness.name)
        self._claim_key(witness.key)
        self.witnesses.append(witness)

    def add_group(self, group: Group) -> None:
        for member in group.members:
            self._check_defined(member)
        self._claim_name(group.name)
        self.groups.append(group)

    def set_quorum(self, name: str) -> None:
        if self.quorum is not None:
            raise ValueError(f"second quorum line {name!r}; want exactly one")
        if name != NONE:
            self._check_defined(name)
        self.quorum = name

    def add_manufacturer(self, key: VerifierKey) -> None:
        self._add_signer(key, "manufacturer", self.manufacturers)

    def add_device(self, key: VerifierKey) -> None:
        self._add_signer(key, "device", self.devices)

    def _add_signer(self, key: VerifierKey, role: str, keys: list[VerifierKey]) -> None:
        key.check_type(KeyType.ED25519, role)
        if any(KeyId.of(key) == KeyId.of(other) for other in keys):
            raise ValueError(f"two {role} keys share the reference {key.reference}")
        self._claim_key(key)
        keys.append(key)

    def _claim_name(self, name: str) -> None:
        if name in self._names:
            raise ValueError(f"name {name!r} is defined twice")
        self._names.add(name)

    def _check_defined(self, name: str) -> None:
        if name not in self._names:
            raise ValueError(f"{name!r} is not a witness or group defined earlier")

    def _claim_key(self, key: VerifierKey) -> None:
        if key.public_key in self._public_keys:
            raise ValueError(f"public key of {key.reference} is listed twice")
        self._public_keys.add(key.public_key)


def _parse_line(line: str, builder: _Builder) -> None:
    if bad := [c for c in line if (c < " " and c != "\t") or c == "\x7f"]:
        raise ValueError(f"control character {bad[0]!r}; only tab and newline are allowed")
    stripped = line.strip(" \t")
    if not stripped or stripped.startswith("#"):
        return
    keyword, *args = _SEPARATORS.split(stripped)
    if keyword == "log" and len(args) in (1, 2):
        builder.add_log(Log(key=VerifierKey.parse(args[0]), url=_url(args[1:])))
    elif keyword == "witness" and len(args) in (2, 3):
        key = VerifierKey.parse(args[1])
        builder.add_witness(Witness(name=args[0], key=key, url=_url(args[2:])))
    elif keyword == "group" and len(args) >= 2:
        name, threshold, *members = args
        if not _THRESHOLD.fullmatch(threshold):
            raise ValueError(f"group threshold {threshold!r}, want all, any or k ≥ 1")
        k = 1 if threshold == "any" else len(members) if threshold == "all" else int(threshold)
        builder.add_group(Group(name=name, threshold=k, members=tuple(members)))
    elif keyword == "quorum" and len(args) == 1:
        builder.set_quorum(args[0])
    elif keyword == "manufacturer" and len(args) == 1:
        builder.add_manufacturer(VerifierKey.parse(args[0]))
    elif keyword == "device" and len(args) == 1:
        builder.add_device(VerifierKey.parse(args[0]))
    else:
        raise ValueError(
            f"{keyword!r} with {len(args)} items; want log, witness, group, quorum, "
            "manufacturer or device with their items"
        )


def _url(rest: list[str]) -> str | None:
    return rest[0] if rest else None


def _join(*items: str | None) -> str:
    return " ".join(item for item in items if item is not None)


def _check_name(name: str) -> None:
    _check_item("name", name)
    if name == NONE:
        raise ValueError(f"{NONE!r} is reserved; it cannot name a witness or group")


def _check_url(url: str | None) -> None:
    if url is not None:
        _check_item("url", url)


def _check_item(what: str, value: str) -> None:
    if not value or _SEPARATORS.search(value) or "\n" in value:
        raise ValueError(f"{what} {value!r} must be one non-empty item")
