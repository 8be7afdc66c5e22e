"""NSL-KDD loader: real files from the shared data folder, download path with a fake opener."""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
import urllib.error
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tinycodegen.datasets import (
    ATTACK_CATEGORY,
    CATEGORICAL,
    CATEGORICAL_INDEX,
    CLASSES_5,
    CLASSES_BINARY,
    FEATURE_NAMES,
    SPLITS,
    download,
    find_data_dir,
    load,
    nsl_kdd,
    resolve_spec,
)
from tinycodegen.errors import DataError

SHARED = Path(__file__).parents[1].parent / "shared/data/nsl-kdd"
ROWS = {"train": 125_973, "train20": 25_192, "test": 22_544, "test21": 11_850}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point at the shared data, use a throw-away cache and make any real download fail."""
    if not os.environ.get("TINYCODEGEN_DATA"):
        monkeypatch.setenv("TINYCODEGEN_DATA", str(SHARED))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    def offline(url: str, timeout: float) -> io.BytesIO:
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(nsl_kdd, "_urlopen", offline)


def data_dir() -> Path:
    return Path(os.environ.get("TINYCODEGEN_DATA") or SHARED)


@functools.cache
def raw_bytes(stem: str) -> bytes:
    folder = data_dir()
    txt = folder / f"{stem}.txt"
    return txt.read_bytes() if txt.is_file() else gzip.decompress(txt.with_suffix(".txt.gz")
                                                                  .read_bytes())


def write_copy(folder: Path, stem: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.txt").write_bytes(data)
    return folder / f"{stem}.txt"


@pytest.mark.parametrize("split", list(SPLITS))
def test_row_counts_shapes_dtypes(split: str) -> None:
    d = load(split)
    n = ROWS[split]
    assert d.X.shape == (n, 41) and d.X.dtype == np.float32
    assert d.y.shape == (n,) and d.y.dtype == np.int64 and set(np.unique(d.y)) == {0, 1}
    assert d.attack.shape == (n,) and d.attack.dtype == object
    assert d.difficulty.dtype == np.int16 and 0 <= d.difficulty.min() <= d.difficulty.max() <= 21
    assert d.split == split and d.class_names == CLASSES_BINARY
    assert d.path.name.startswith(SPLITS[split] + ".txt") and d.path.is_file()


def test_cached_and_read_only() -> None:
    d = load("test")
    assert load("KDDTest+") is d
    for arr in (d.X, d.y, d.attack, d.difficulty):
        assert not arr.flags.writeable
    with pytest.raises(ValueError):
        d.X[0, 0] = 1.0
    d5 = load("test", labels="5class")
    assert d5.X is d.X and d5.class_names == CLASSES_5


def test_binary_balance_of_test() -> None:
    d = load("test")
    n_normal = int((d.attack == "normal").sum())
    assert n_normal == 9711
    assert int((d.y == 0).sum()) == n_normal and int(d.y.sum()) == len(d.y) - n_normal


def test_five_class_mapping_covers_every_name() -> None:
    assert set(ATTACK_CATEGORY.values()) == set(CLASSES_5[1:])
    assert {"mscan", "apache2", "processtable", "snmpguess", "neptune"} <= set(ATTACK_CATEGORY)
    for split in SPLITS:
        d = load(split, labels="5class")
        assert set(d.attack) - {"normal"} <= set(ATTACK_CATEGORY)
        expected = [CLASSES_5.index(ATTACK_CATEGORY.get(a, "normal")) for a in d.attack]
        np.testing.assert_array_equal(d.y, expected)
    counts = np.bincount(load("test", labels="5class").y, minlength=5)
    assert counts.tolist() == [9711, 7460, 2421, 2885, 67]


def test_categorical_vocabularies() -> None:
    assert CATEGORICAL_INDEX == (1, 2, 3)
    assert [FEATURE_NAMES[i] for i in CATEGORICAL_INDEX] == list(CATEGORICAL)
    assert [len(v) for v in CATEGORICAL.values()] == [3, 70, 11]
    assert all(list(v) == sorted(v) for v in CATEGORICAL.values())
    assert set(load("train").frame()["service"]) == set(CATEGORICAL["service"])
    d = load("test")
    frame = d.frame()
    for j, (name, vocab) in zip(CATEGORICAL_INDEX, CATEGORICAL.items(), strict=True):
        assert set(frame[name]) <= set(vocab)
        codes = d.X[:, j].astype(np.int64)
        assert codes.min() >= 0
        assert (np.asarray(vocab, dtype=object)[codes] == frame[name].to_numpy()).all()


def test_unseen_value_is_minus_one(tmp_path: Path) -> None:
    lines = raw_bytes("KDDTest+").split(b"\n")
    fields = lines[0].split(b",")
    fields[2] = b"http_9999"
    lines[0] = b",".join(fields)
    write_copy(tmp_path, "KDDTest+", b"\n".join(lines))
    d = load("test", data_dir=tmp_path, download=False, verify=False)
    assert d.X[0, 2] == -1 and d.X[1, 2] >= 0
    assert d.frame()["service"].iloc[0] == "http_9999"


def test_frame_for_pipelines() -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    train, test = load("train20"), load("test")
    frame = train.frame()
    assert tuple(frame.columns) == FEATURE_NAMES
    for name, dtype in frame.dtypes.items():
        assert dtype == (object if name in CATEGORICAL else np.float64)
    np.testing.assert_allclose(frame["src_bytes"].to_numpy(), train.X[:, 4], rtol=1e-7)
    frame.iloc[0, 0] = -5.0  # a copy: the cached data stays intact
    assert train.frame().iloc[0, 0] != -5.0
    enc = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL))],
                            remainder="passthrough")
    model = make_pipeline(enc, DecisionTreeClassifier(max_depth=6, random_state=0))
    model.fit(frame, train.y)
    assert model.score(test.frame(), test.y) > 0.6


def test_checksum_failure_on_tampered_copy(tmp_path: Path) -> None:
    data = bytearray(raw_bytes("KDDTest-21"))
    data[0:2] = b"99" if data[0:2] != b"99" else b"98"
    path = write_copy(tmp_path, "KDDTest-21", bytes(data))
    with pytest.raises(DataError) as info:
        load("test21", data_dir=tmp_path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg
    assert nsl_kdd._FILES["test21"][1] in msg and hashlib.sha256(data).hexdigest() in msg


def test_row_count_check(tmp_path: Path) -> None:
    head = b"\n".join(raw_bytes("KDDTest+").split(b"\n")[:100]) + b"\n"
    write_copy(tmp_path, "KDDTest+", head)
    with pytest.raises(DataError, match="100 rows, expected 22544"):
        load("test", data_dir=tmp_path, verify=False)


def test_missing_data_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TINYCODEGEN_DATA", str(tmp_path / "nowhere"))
    assert find_data_dir() is None and find_data_dir(tmp_path) is None
    with pytest.raises(DataError) as info:
        load("test", download=False)
    msg = str(info.value)
    assert "\n" not in msg and "KDDTest+.txt" in msg and "TINYCODEGEN_DATA" in msg
    assert str(tmp_path / "nowhere") in msg and str(tmp_path / "xdg/tinycodegen/nsl-kdd") in msg
    with pytest.raises(DataError, match="download failed.*network disabled"):
        load("test")  # download=True, but offline
    assert not any((tmp_path / "xdg").rglob("*.txt*"))


def test_find_data_dir() -> None:
    assert find_data_dir() == data_dir()
    assert find_data_dir(data_dir()) == data_dir()


def fake_opener(payload: dict[str, bytes], seen: list[str]) -> Callable[[str, float], io.BytesIO]:
    def opener(url: str, timeout: float) -> io.BytesIO:
        assert timeout > 0
        seen.append(url)
        return io.BytesIO(payload[url.rsplit("/", 1)[1]])

    return opener


def test_download_verifies_and_writes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    payload = {"KDDTest%2B.txt": raw_bytes("KDDTest+"), "KDDTest-21.txt": raw_bytes("KDDTest-21")}
    seen: list[str] = []
    monkeypatch.setattr(nsl_kdd, "_urlopen", fake_opener(payload, seen))
    dest = tmp_path / "dl"
    assert download(dest, splits=["test", "test-21"]) == dest
    assert seen == [nsl_kdd.MIRROR_URL + name for name in payload]
    assert sorted(p.name for p in dest.iterdir()) == ["KDDTest+.txt", "KDDTest-21.txt"]
    d = load("test", data_dir=dest, download=False)
    np.testing.assert_array_equal(d.X, load("test").X)
    download(dest, splits=["test"])  # already present: nothing fetched
    assert len(seen) == 2


def test_load_downloads_into_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TINYCODEGEN_DATA", str(tmp_path / "empty"))
    seen: list[str] = []
    payload = {"KDDTest-21.txt": raw_bytes("KDDTest-21")}
    monkeypatch.setattr(nsl_kdd, "_urlopen", fake_opener(payload, seen))
    d = load("test21")
    assert d.path == tmp_path / "xdg/tinycodegen/nsl-kdd/KDDTest-21.txt" and len(d.y) == 11_850
    assert find_data_dir() == tmp_path / "xdg/tinycodegen/nsl-kdd"


def test_download_rejects_corrupt_payload(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bad = raw_bytes("KDDTest+").replace(b"neptune", b"neptuna", 1)
    monkeypatch.setattr(nsl_kdd, "_urlopen", fake_opener({"KDDTest%2B.txt": bad}, []))
    dest = tmp_path / "dl"
    with pytest.raises(DataError, match="SHA-256") as info:
        download(dest, splits=["test"])
    assert "\n" not in str(info.value) and hashlib.sha256(bad).hexdigest() in str(info.value)
    assert list(dest.iterdir()) == []


def test_download_cut_transfer_leaves_nothing(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise TimeoutError("read timed out")

    monkeypatch.setattr(nsl_kdd, "_urlopen", lambda url, timeout: Broken())
    with pytest.raises(DataError, match="cannot download .*read timed out"):
        download(tmp_path, splits=["train20"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("spec", "split"),
    [("nsl-kdd:test", "test"), ("nsl-kdd:test21", "test21"), ("nsl-kdd:train", "train"),
     ("nsl-kdd:train20", "train20"), ("NSL-KDD:test-21", "test21"), ("nsl-kdd:KDDTest+", "test")],
)
def test_resolve_spec(spec: str, split: str) -> None:
    d = resolve_spec(spec)
    assert d.split == split and len(d.y) == ROWS[split]
    assert resolve_spec(spec, labels="5class").class_names == CLASSES_5


@pytest.mark.parametrize("spec", ["", "test", "nsl-kdd", "nsl-kdd:", "kdd:test", "nsl-kdd:dev",
                                  "iris:test", "nsl-kdd:train30"])
def test_resolve_spec_rejects(spec: str) -> None:
    with pytest.raises(DataError) as info:
        resolve_spec(spec)
    assert "\n" not in str(info.value)


def test_split_aliases_and_bad_labels() -> None:
    for alias, key in [("test-21", "test21"), ("train-20", "train20"), ("KDDTest-21", "test21"),
                       ("KDDTrain+_20Percent", "train20"), ("KDDTrain+", "train")]:
        assert nsl_kdd.canonical_split(alias) == key
    with pytest.raises(DataError, match="unknown NSL-KDD split"):
        load("validation")
    with pytest.raises(DataError, match="unknown labels"):
        load("test", labels="3class")
