"""The vectorised field count of CSV entries agrees with the csv module (strict) or leaves it to it."""

from __future__ import annotations

import csv
import io
import random

import pytest

import validation.readers.csvfile as csvfile


def _csv_counts(path) -> list[int] | None:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            return [len(r) for r in csv.reader(f, strict=True)]
    except csv.Error:
        return None


@pytest.mark.parametrize(
    "data",
    [
        b"a,b\n1,2\n",
        b"a,b\r\n1,2\r\n",
        b"a,b\n1,2",
        b"a,b\n\n1,2\n\r\n",
        b'a,b\n"x""y",z\n',
        b'a,b\n"x\r\ny","a,b"\n',
        b'a,b\n"",""\n',
        b'"x"""',
        b'\xef\xbb\xbf"a",b\n1,2\n',
        b"a\n  \n",
    ],
)
def test_known_shapes(tmp_path, data):
    p = tmp_path / "x.csv"
    p.write_bytes(data)
    got = csvfile._scan_field_counts(p)
    assert got is not None and list(got) == _csv_counts(p)


@pytest.mark.parametrize(
    "data",
    [
        b'a,b\n1,ab"c\n',  # literal quote inside an unquoted field
        b'a,b\n1,"abc"def\n',  # text after a closing quote
        b'a,b\n1,"abc\n',  # unterminated
        b"a,b\r1,2\r",  # CR line ends
    ],
)
def test_unusual_files_are_left_to_the_csv_module(tmp_path, data):
    p = tmp_path / "x.csv"
    p.write_bytes(data)
    assert csvfile._scan_field_counts(p) is None


@pytest.mark.parametrize("seed", range(4))
def test_random_files_agree_with_the_csv_module(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    p = tmp_path / "x.csv"
    for _ in range(400):
        monkeypatch.setattr(csvfile, "_CHUNK", rng.choice([1, 2, 3, 7, 4096]))
        if rng.random() < 0.5:  # well-formed, as a csv writer makes them
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator=rng.choice(["\n", "\r\n"]))
            for _ in range(rng.randint(0, 5)):
                if rng.random() < 0.15:
                    buf.write("\n")
                    continue
                chars = ["a", ",", '"', "\n", "\r\n", " ", "é"]
                w.writerow(
                    ["".join(rng.choices(chars, k=rng.randint(0, 4))) for _ in range(rng.randint(1, 4))]
                )
            text = buf.getvalue()
        else:  # anything
            text = "".join(rng.choices(["a", ",", '"', "\n", "\r", " ", "é"], k=rng.randint(0, 30)))
        p.write_bytes(text.encode())
        got = csvfile._scan_field_counts(p)
        if got is not None:
            assert list(got) == _csv_counts(p), text
