"""NSL-KDD intrusion-detection data (Tavallaee et al., CISDA 2009): checksummed, cached loader.

Files (``.txt`` or ``.txt.gz``) are looked up in ``data_dir`` if given, else in
``$TINYCODEGEN_DATA`` and then the per-user cache (``$XDG_CACHE_HOME/tinycodegen/nsl-kdd`` or
``~/.cache/tinycodegen/nsl-kdd``).  Missing files are fetched from a public mirror of the
original text files when ``download=True``; every file is checked against its SHA-256.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import io
import os
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tinycodegen.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

SPLITS = {"train": "KDDTrain+", "train20": "KDDTrain+_20Percent",
          "test": "KDDTest+", "test21": "KDDTest-21"}
_ALIASES = {"test-21": "test21", "train-20": "train20", **{k: k for k in SPLITS},
            **{stem.lower(): key for key, stem in SPLITS.items()}}
# Rows and SHA-256 of the *uncompressed* files (shared/data/nsl-kdd/README.md).
_FILES: dict[str, tuple[int, str]] = {  # split key -> (rows, sha256)
    "train": (125_973, "1b86d2f957b33082081bba410fe129b475efebcc13c9014c3f447c8271aadf95"),
    "train20": (25_192, "7ea86479faab5ca2190b7f18b4982fb058ce5bf2b46e0e1017d0d9ef90f9c16e"),
    "test": (22_544, "fa46b0935342616aa83b7c2578db355b6a7aaabbc492248172c7a1e8b7ab8f84"),
    "test21": (11_850, "746993ac9e25868827cacf09eab450050a2a1056e1ce48a1ad39f5dc801d531d"),
}
ENV_VAR = "TINYCODEGEN_DATA"
MIRROR_URL = "https://raw.githubusercontent.com/defcom17/NSL_KDD/master/"
TIMEOUT_S = 60.0

FEATURE_NAMES: tuple[str, ...] = tuple(
    "duration protocol_type service flag src_bytes dst_bytes land wrong_fragment urgent hot "
    "num_failed_logins logged_in num_compromised root_shell su_attempted num_root "
    "num_file_creations num_shells num_access_files num_outbound_cmds is_host_login "
    "is_guest_login count srv_count serror_rate srv_serror_rate rerror_rate srv_rerror_rate "
    "same_srv_rate diff_srv_rate srv_diff_host_rate dst_host_count dst_host_srv_count "
    "dst_host_same_srv_rate dst_host_diff_srv_rate dst_host_same_src_port_rate "
    "dst_host_srv_diff_host_rate dst_host_serror_rate dst_host_srv_serror_rate "
    "dst_host_rerror_rate dst_host_srv_rerror_rate"
    .split()
)
CATEGORICAL_INDEX = (1, 2, 3)
# Fixed vocabularies; a feature's code is its index here, -1 for a value not listed.
# protocol_type: the 3 values of every split; service: the 70 values of KDDTrain+ (KDDTest+
# uses 64 of them); flag: the 11 values of every split.  All sorted by code point.
CATEGORICAL: dict[str, tuple[str, ...]] = {
    "protocol_type": ("icmp", "tcp", "udp"),
    "service": tuple(
        "IRC X11 Z39_50 aol auth bgp courier csnet_ns ctf daytime discard domain domain_u echo "
        "eco_i ecr_i efs exec finger ftp ftp_data gopher harvest hostnames http http_2784 "
        "http_443 http_8001 imap4 iso_tsap klogin kshell ldap link login mtp name netbios_dgm "
        "netbios_ns netbios_ssn netstat nnsp nntp ntp_u other pm_dump pop_2 pop_3 printer private "
        "red_i remote_job rje shell smtp sql_net ssh sunrpc supdup systat telnet tftp_u tim_i "
        "time urh_i urp_i uucp uucp_path vmnet whois"
        .split()
    ),
    "flag": ("OTH", "REJ", "RSTO", "RSTOS0", "RSTR", "S0", "S1", "S2", "S3", "SF", "SH"),
}
CLASSES_BINARY = ("normal", "attack")
CLASSES_5 = ("normal", "DoS", "Probe", "R2L", "U2R")
# The usual NSL-KDD grouping (Dhanabal & Shantharajah 2015 and most papers).  Sources disagree
# on two test-only names: some put httptunnel in U2R and worm in R2L.
_GROUPS = {
    "DoS": "apache2 back land mailbomb neptune pod processtable smurf teardrop udpstorm worm",
    "Probe": "ipsweep mscan nmap portsweep saint satan",
    "R2L": "ftp_write guess_passwd httptunnel imap multihop named phf sendmail snmpgetattack "
           "snmpguess spy warezclient warezmaster xlock xsnoop",
    "U2R": "buffer_overflow loadmodule perl ps rootkit sqlattack xterm",
}
ATTACK_CATEGORY: dict[str, str] = {n: cat for cat, names in _GROUPS.items() for n in names.split()}
_LABELS = {"binary": "binary", "2": "binary", "5class": "5class", "5": "5class"}
_COLUMNS = (*FEATURE_NAMES, "attack", "difficulty")
_STRINGS = {*CATEGORICAL, "attack"}


@dataclass(frozen=True, eq=False)
class NslKdd:
    """One split: ``X`` (float32, categoricals as codes), labels ``y`` and raw metadata."""

    X: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    attack: np.ndarray
    difficulty: np.ndarray
    split: str
    path: Path
    _raw: Any = field(default=None, repr=False)

    def frame(self) -> pd.DataFrame:
        """The 41 raw columns: categoricals as strings (object), numerics as float64."""
        return self._raw.copy()


def canonical_split(split: str) -> str:
    """``"test-21"``, ``"KDDTest-21"``, ... -> the ``SPLITS`` key; unknown names raise DataError."""
    key = _ALIASES.get(split.strip().lower())
    if key is None:
        raise DataError(f"unknown NSL-KDD split {split!r}; expected one of "
                        f"{', '.join(SPLITS)} (or a file stem such as {SPLITS['test']})")
    return key


def _candidates(data_dir: str | Path | None) -> list[Path]:
    if data_dir is not None:
        return [Path(data_dir).expanduser()]
    out = []
    env = os.environ.get(ENV_VAR)
    if env:
        out += [Path(env).expanduser(), Path(env).expanduser() / "nsl-kdd"]
    return [*out, _cache_dir()]  # downloads go to the cache (the env folder may be read-only)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinycodegen" / "nsl-kdd"


def _file_in(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.txt", f"{stem}.txt.gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def find_data_dir(data_dir: str | Path | None = None) -> Path | None:
    """First folder holding any NSL-KDD split file: ``data_dir``, else $TINYCODEGEN_DATA, else
    the per-user cache.  None if no candidate holds one."""
    for folder in _candidates(data_dir):
        if any(_file_in(folder, stem) for stem in SPLITS.values()):
            return folder
    return None


def _urlopen(url: str, timeout: float) -> Any:  # tests replace this to stay offline
    return urllib.request.urlopen(url, timeout=timeout)


def _fetch(url: str, target: Path, expected: str) -> None:
    """Stream ``url`` into a temporary file next to ``target``; rename only if the digest fits."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, _urlopen(url, TIMEOUT_S) as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if (actual := digest.hexdigest()) != expected:
            raise DataError(f"downloaded {url} has SHA-256 {actual}, expected {expected}; "
                            "nothing was saved")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def download(dest: Path | None = None, *, splits: Iterable[str] | None = None) -> Path:
    """Fetch the split files missing from ``dest`` (default: the per-user cache) from the mirror
    as ``<stem>.txt``; each is SHA-256 verified before it appears, failures leave no file."""
    dest = Path(dest).expanduser() if dest is not None else _cache_dir()
    splits = [splits] if isinstance(splits, str) else splits
    keys = [canonical_split(s) for s in splits] if splits is not None else list(SPLITS)
    for key in keys:
        stem = SPLITS[key]
        if _file_in(dest, stem) is not None:
            continue
        url = MIRROR_URL + urllib.parse.quote(f"{stem}.txt", safe="")
        try:
            dest.mkdir(parents=True, exist_ok=True)
            _fetch(url, dest / f"{stem}.txt", _FILES[key][1])
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, cut transfers
            reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            raise DataError(f"cannot download {url} into {dest}: {reason}") from exc
    return dest


_do_download = download  # ``load`` has a parameter named ``download``


@functools.lru_cache(maxsize=8)
def _parse(path: Path, key: str, verify: bool, stamp: tuple[int, int]) -> tuple[Any, ...]:
    import pandas as pd

    raw = path.read_bytes()
    try:
        text = gzip.decompress(raw) if path.suffix == ".gz" else raw
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot decompress: {exc}") from exc
    rows, expected = _FILES[key]
    if verify and (actual := hashlib.sha256(text).hexdigest()) != expected:
        raise DataError(f"checksum mismatch for {path}: expected SHA-256 {expected}, "
                        f"got {actual} (corrupt or modified file; delete it and reload)")
    dtypes: dict[str, Any] = {c: (str if c in _STRINGS else np.float64) for c in _COLUMNS}
    try:
        df = pd.read_csv(io.BytesIO(text), header=None, names=list(_COLUMNS),
                         dtype={**dtypes, "difficulty": np.int64}, na_filter=False, engine="c")
    except (ValueError, pd.errors.ParserError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: not NSL-KDD rows (43 comma-separated fields): {first}") from exc
    if len(df) != rows:
        raise DataError(f"{path}: {len(df)} rows, expected {rows} (truncated or modified file)")
    X = np.empty((len(df), len(FEATURE_NAMES)), dtype=np.float32)
    for j, name in enumerate(FEATURE_NAMES):
        if name in CATEGORICAL:
            X[:, j] = pd.Index(CATEGORICAL[name]).get_indexer(df[name])  # -1 if unseen
        else:
            X[:, j] = df[name].to_numpy()
    attack = df["attack"].to_numpy(dtype=object)
    difficulty = df["difficulty"].to_numpy().astype(np.int16)
    frame = df[list(FEATURE_NAMES)].astype({name: object for name in CATEGORICAL})
    for arr in (X, attack, difficulty):
        arr.flags.writeable = False
    return X, attack, difficulty, frame


@functools.lru_cache(maxsize=16)
def _build(path: Path, labels: str, verify: bool, stamp: tuple[int, int], key: str) -> NslKdd:
    import pandas as pd

    X, attack, difficulty, frame = _parse(path, key, verify, stamp)
    if labels == "binary":
        y, names = (attack != "normal").astype(np.int64), CLASSES_BINARY
    else:
        cat = pd.Categorical(attack)
        lookup = {"normal": "normal", **ATTACK_CATEGORY}
        unknown = sorted(set(cat.categories) - set(lookup))
        if unknown:
            raise DataError(f"{path}: attack names with no 5-class category: {unknown}")
        codes = np.array([CLASSES_5.index(lookup[n]) for n in cat.categories], dtype=np.int64)
        y, names = codes[cat.codes], CLASSES_5
    y.flags.writeable = False
    return NslKdd(X=X, y=y, class_names=names, attack=attack, difficulty=difficulty,
                  split=key, path=path, _raw=frame)


def _missing_error(stem: str, folders: list[Path], extra: str = "") -> DataError:
    where = ", ".join(str(f) for f in folders)
    return DataError(f"NSL-KDD file {stem}.txt(.gz) not found; searched {where}; put it in one "
                     f"of them or point ${ENV_VAR} at its folder{extra}")


def load(split: str = "test", *, labels: str = "binary", data_dir: str | Path | None = None,
         download: bool = True, verify: bool = True) -> NslKdd:
    """Load one split; ``labels`` is ``"binary"`` (normal=0, attack=1) or ``"5class"``."""
    key = canonical_split(split)
    mode = _LABELS.get(str(labels).lower())
    if mode is None:
        raise DataError(f"unknown labels {labels!r}; expected 'binary' or '5class'")
    stem, folders = SPLITS[key], _candidates(data_dir)
    found = next((p for f in folders if (p := _file_in(f, stem)) is not None), None)
    if found is None:
        if not download:
            raise _missing_error(stem, folders, " (download=False)")
        target = Path(data_dir).expanduser() if data_dir is not None else _cache_dir()
        try:
            found = _file_in(_do_download(target, splits=[key]), stem)
        except DataError as exc:
            raise _missing_error(stem, folders, f"; download failed: {exc}") from exc
    path = found.absolute()
    st = path.stat()
    return _build(path, mode, verify, (st.st_size, st.st_mtime_ns), key)


def resolve_spec(spec: str, *, labels: str = "binary",
                 data_dir: str | Path | None = None) -> NslKdd:
    """``"nsl-kdd:<split>"`` (test, test21, train, train20, or an alias) -> the loaded split."""
    prefix, sep, split = spec.strip().partition(":")
    if not sep or prefix.lower() != "nsl-kdd" or not split:
        raise DataError(f"not a data spec: {spec!r}; expected nsl-kdd:test, nsl-kdd:test21, "
                        "nsl-kdd:train or nsl-kdd:train20")
    return load(split, labels=labels, data_dir=data_dir)
