"""Real data for ``zas.fig4``, read from disk, nothing downloaded.

Two sources, both ten-class image classification:

* **Fashion-MNIST** (Xiao, Rasul & Vollgraf 2017; the data set of the ZAS
  paper's Section 6) from the standard IDX files ``train-images-idx3-ubyte``
  and ``train-labels-idx1-ubyte`` (each optionally ``.gz``) in a folder the
  user names (``zascheck check zas.fig4 --data DIR``).
* **scikit-learn's handwritten digits** (1797 images of 8 x 8 pixels, values
  0..16, ten classes), read from the copy the installed ``scikit-learn``
  ships (``sklearn/datasets/data/digits.csv.gz``: the file
  ``sklearn.datasets.load_digits`` reads).  The file is located without
  importing scikit-learn, whose import costs seconds.

The IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/): a 4-byte
magic number ``0x00 0x00 T N`` (``T`` the element type: ``0x08`` unsigned
byte, ``0x09`` signed byte, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32,
``0x0E`` float64; ``N`` the number of dimensions), then ``N`` big-endian
uint32 sizes, then the elements, big-endian, row-major.  Every problem with a
file (missing, not gzip, wrong magic number, truncated, extra bytes, shapes
that disagree, labels out of range) raises :class:`~zascheck.errors.InputError`
with one line naming the file and the problem.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zascheck.errors import InputError

__all__ = [
    "CLASSES",
    "FASHION_FILES",
    "Dataset",
    "load_dataset",
    "load_digits_shipped",
    "load_fashion_mnist",
    "read_idx",
    "write_idx",
]

#: classes of both data sets
CLASSES = 10

#: the IDX files of the Fashion-MNIST training set (each may end in ``.gz``)
FASHION_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")

_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


@dataclass(frozen=True)
class Dataset:
    """A classification training set: ``X`` of shape ``(n, d)`` (float64,
    pixels scaled to ``[0, 1]``), labels ``y`` of shape ``(n,)`` in
    ``0..classes-1``; ``name`` and ``source`` say where it came from,
    ``sha256`` fingerprints the arrays used (``X`` then ``y``)."""

    name: str
    source: str
    X: np.ndarray
    y: np.ndarray
    classes: int = CLASSES

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    @property
    def sha256(self) -> str:
        h = hashlib.sha256(np.ascontiguousarray(self.X).tobytes())
        h.update(np.ascontiguousarray(self.y).tobytes())
        return h.hexdigest()


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not an IDX file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read it: {exc.strerror}") from None
    if path.suffix == ".gz":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: not a valid gzip file ({exc})") from None
    return raw


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in the IDX file ``path`` (gzip-compressed when the
    name ends in ``.gz``), in native byte order.

    Raises :class:`InputError` naming the file when it is missing, is not
    gzip (``.gz``), has a wrong magic number (first two bytes not zero, or an
    unknown element type), is shorter than its header says (truncated), or has
    bytes after the data.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a-idx1-ubyte")
    >>> _ = write_idx(p, np.arange(3, dtype=np.uint8))
    >>> read_idx(p).tolist()
    [0, 1, 2]
    """
    p = Path(path)
    raw = _read_bytes(p)
    if len(raw) < 4:
        raise InputError(f"{p}: truncated: {len(raw)} bytes, shorter than the 4-byte magic number")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise InputError(
            f"{p}: wrong magic number 0x{raw[:4].hex()} (an IDX file starts 0x0000TTNN, "
            f"TT the element type in {{{', '.join(f'{t:02x}' for t in _IDX_TYPES)}}})"
        )
    dtype, ndim = _IDX_TYPES[raw[2]], raw[3]
    head = 4 + 4 * ndim
    if ndim == 0 or len(raw) < head:
        raise InputError(
            f"{p}: truncated header: {ndim} dimensions need {head} bytes, have {len(raw)}"
        )
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    need = head + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) < need:
        raise InputError(
            f"{p}: truncated: shape {shape} needs {need} bytes, the file has {len(raw)}"
        )
    if len(raw) > need:
        raise InputError(f"{p}: {len(raw) - need} bytes after the data of shape {shape}")
    arr = np.frombuffer(raw, dtype=dtype, count=int(np.prod(shape)), offset=head)
    return arr.reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, arr: np.ndarray) -> Path:
    """Write ``arr`` as an IDX file (gzip when ``path`` ends in ``.gz``); the
    tests' way of making Fashion-MNIST-shaped files.  Raises ``ValueError``
    for an element type IDX cannot store."""
    a = np.asarray(arr)
    codes = {v.newbyteorder("="): k for k, v in _IDX_TYPES.items()}
    if a.dtype not in codes or a.ndim == 0:
        raise ValueError(f"IDX cannot store a {a.ndim}-d {a.dtype} array")
    code = codes[a.dtype]
    body = bytes([0, 0, code, a.ndim]) + np.asarray(a.shape, ">u4").tobytes()
    body += a.astype(_IDX_TYPES[code]).tobytes()
    p = Path(path)
    p.write_bytes(gzip.compress(body, mtime=0) if p.suffix == ".gz" else body)
    return p


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise InputError(f"{folder / stem}: no such file (nor {stem}.gz) in the --data folder")


def load_fashion_mnist(folder: str | Path, n: int) -> Dataset:
    """The first ``n`` samples of the Fashion-MNIST training set in
    ``folder`` (files :data:`FASHION_FILES`, optionally ``.gz``): images
    flattened to ``d = 784`` and scaled by ``1/255``; labels ``0..9``.

    Raises :class:`InputError` naming the file for a missing or malformed
    file, images that are not a 3-d unsigned-byte array, labels that are not
    a 1-d unsigned-byte array in ``0..9``, counts that disagree, or fewer
    than ``n`` samples."""
    f = Path(folder)
    if not f.is_dir():
        raise InputError(f"--data {f}: no such folder")
    pi, pl = _find(f, FASHION_FILES[0]), _find(f, FASHION_FILES[1])
    img, lab = read_idx(pi), read_idx(pl)
    if img.ndim != 3 or img.dtype != np.uint8:
        raise InputError(
            f"{pi}: expected a 3-d unsigned-byte image array, found {img.ndim}-d {img.dtype}"
        )
    if lab.ndim != 1 or lab.dtype != np.uint8:
        raise InputError(
            f"{pl}: expected a 1-d unsigned-byte label array, found {lab.ndim}-d {lab.dtype}"
        )
    if img.shape[0] != lab.shape[0]:
        raise InputError(f"{pl}: {lab.shape[0]} labels but {pi.name} has {img.shape[0]} images")
    if lab.size and int(lab.max()) >= CLASSES:
        raise InputError(f"{pl}: label {int(lab.max())} is outside 0..{CLASSES - 1}")
    if img.shape[0] < n:
        raise InputError(f"{pi}: {img.shape[0]} samples, fewer than the {n} the check uses")
    X = img[:n].reshape(n, -1).astype(np.float64) / 255.0
    return Dataset(
        "Fashion-MNIST", f"first {n} training samples of {pi} and {pl}", X, lab[:n].astype(np.int64)
    )


def load_digits_shipped(n: int) -> Dataset:
    """The first ``n`` of scikit-learn's 1797 handwritten digits (``d = 64``,
    pixels 0..16 scaled by ``1/16``), from the ``digits.csv.gz`` the installed
    scikit-learn ships (what ``sklearn.datasets.load_digits`` reads: 64 pixel
    columns, then the label).  Raises :class:`InputError` when scikit-learn
    is not installed or ``n > 1797``."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            "scikit-learn is not installed: its digits data set is the default data "
            "of zas.fig4 (pip install scikit-learn), or give --data DIR"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"
    try:
        with gzip.open(path, "rt") as fh:
            data = np.loadtxt(fh, delimiter=",")
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read scikit-learn's digits: {exc}") from None
    if n > data.shape[0]:
        raise InputError(f"the digits data set has {data.shape[0]} samples, fewer than {n}")
    return Dataset(
        "digits (scikit-learn)",
        f"first {n} of the 1797 samples in {path}",
        data[:n, :-1] / 16.0,
        data[:n, -1].astype(np.int64),
    )


def load_dataset(data_dir: str | Path | None, n: int) -> Dataset:
    """Fashion-MNIST from ``data_dir`` when given, else the shipped digits."""
    if data_dir:
        return load_fashion_mnist(data_dir, n)
    return load_digits_shipped(n)
