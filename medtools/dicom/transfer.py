"""Transfer syntaxes: which decoder plugins a syntax needs, and whether pixels may be lossy.

Introduced in the chapter *Medical images as they arrive: DICOM* (``chapters/dicom``):

* :func:`decoders` and :class:`DecoderInfo` — which pydicom decoder plugins a transfer syntax
  needs, which are installed, and the pip requirements of the missing ones;
* :func:`lossy_reasons` — why a data set's pixels may differ from the scanner's (the Lossy Image
  Compression flag, or a transfer syntax that permits lossy compression).

Decoder discovery is pydicom's own (pydicom 3).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from pydicom.pixels import get_decoder
from pydicom.uid import HTJ2K, JPEG2000, JPEG2000MC, UID, JPEGLSNearLossless

from medtools.dicom._dataset import _float, _read
from medtools.dicom.errors import NotAFileError

__all__ = [
    "DecoderInfo",
    "decoders",
    "lossy_reasons",
]


# pydicom's decoder plugins and the modules that declare their dependencies
# (DECODER_DEPENDENCIES and is_available are the documented plugin interface).
_PLUGIN_MODULES = {
    "pylibjpeg": "pydicom.pixels.decoders.pylibjpeg",
    "pillow": "pydicom.pixels.decoders.pillow",
    "gdcm": "pydicom.pixels.decoders.gdcm",
    "pyjpegls": "pydicom.pixels.decoders.pyjpegls",
    "pydicom": "pydicom.pixels.decoders.rle",
}
# Where the pip name differs from the import name that pydicom lists.
_PIP_NAMES = {"gdcm": "python-gdcm"}


class DecoderInfo(NamedTuple):
    """What decoding a transfer syntax needs (see :func:`decoders`).

    Attributes:
        transfer_syntax: the syntax's name.
        compressed: ``True`` for encapsulated (compressed) syntaxes; native ones need no plugin.
        available: installed plugins that can decode it.
        missing: plugins that could decode it but are not installed → their pip requirements.
        implemented: ``False`` when pydicom has no decoder for the syntax at all (video, JPIP).
    """

    transfer_syntax: str
    compressed: bool
    available: tuple[str, ...]
    missing: dict[str, tuple[str, ...]]
    implemented: bool = True


def _pip(requirement: str) -> str:
    name = requirement
    for sep in "<>=!~":
        name = name.split(sep)[0]
    return requirement.replace(name, _PIP_NAMES.get(name, name), 1)


def decoders(transfer_syntax: str) -> DecoderInfo:
    """The decoder plugins for a transfer syntax UID: which are installed, which are missing.

    Args:
        transfer_syntax: a Transfer Syntax UID (``"1.2.840.10008.1.2.4.90"`` or a
            ``pydicom.uid.UID``).

    Returns:
        A :class:`DecoderInfo`; ``missing`` maps each plugin to its pip requirements
        (``"numpy"`` left out), e.g. ``{"gdcm": ("python-gdcm>=3.0.10",)}``.
    """
    uid = UID(str(transfer_syntax))
    try:
        decoder = get_decoder(uid)
    except NotImplementedError:
        return DecoderInfo(uid.name, True, (), {}, implemented=False)
    if not uid.is_encapsulated:
        return DecoderInfo(uid.name, False, (), {})
    available = tuple(decoder.available_plugins)
    missing: dict[str, tuple[str, ...]] = {}
    for label, module_name in _PLUGIN_MODULES.items():
        if label in available:
            continue
        deps = getattr(importlib.import_module(module_name), "DECODER_DEPENDENCIES", {})
        if uid in deps:
            missing[label] = tuple(_pip(d) for d in deps[uid] if d != "numpy")
    return DecoderInfo(uid.name, True, available, missing)


def _pip_line(requirements: Sequence[str]) -> str:
    """``pip install ...`` with every requirement that holds a comparison quoted for the shell."""
    return "pip install " + " ".join(f"'{r}'" if any(c in r for c in "<>=!~") else r for r in requirements)


def _install_hint(info: DecoderInfo) -> str:
    if not info.missing:
        return "pydicom has no plugin for it; convert the file with a tool that can (e.g. GDCM's gdcmconv)."
    options = "; ".join(f"{label}: {_pip_line(reqs)}" for label, reqs in info.missing.items())
    return (
        f"Install one of the decoders that can ({options}); "
        "this book's requirements.txt pins pylibjpeg and its plugins."
    )


# --------------------------------------------------------------------------- lossy compression

# Transfer syntaxes whose pixel data may have been compressed lossily, by their names in
# pydicom's UID dictionary (PS3.6 Annex A). Checked against dcm4che's
# TransferSyntaxType.isLossyCompression, an independent implementation, which lists the same
# syntaxes except the retired JPEG ones it does not name:
# - the DCT-based JPEG processes (baseline, extended, spectral selection, full progression,
#   retired ones included): every JPEG syntax whose name does not say "Lossless";
# - JPEG-LS near-lossless ("Lossy (Near-Lossless)" in its registered name);
# - JPEG 2000, its Part 2 multi-component form and HTJ2K without "(Lossless Only)": they permit
#   both lossless and lossy streams, so a file in one of them may differ from the scanner's values;
# - the MPEG-2, MPEG-4 AVC/H.264 and HEVC/H.265 video syntaxes.
_LOSSY_JPEG_PREFIXES = ("JPEGBaseline", "JPEGExtended", "JPEGSpectralSelection", "JPEGFullProgression")
_LOSSY_SYNTAXES = frozenset({JPEGLSNearLossless, JPEG2000, JPEG2000MC, HTJ2K})


def _is_lossy_syntax(uid: UID) -> bool:
    """True for a transfer syntax that permits lossy compression (see the list above)."""
    keyword = uid.keyword
    return uid in _LOSSY_SYNTAXES or keyword.startswith(_LOSSY_JPEG_PREFIXES + ("MPEG", "HEVC"))


def lossy_reasons(source: Any) -> tuple[str, ...]:
    """Why the pixel values of a data set may differ from the scanner's: every sign of lossy compression.

    Two signs count:

    * Lossy Image Compression (0028,2110) is ``"01"``: the image was compressed lossily, now or
      at an earlier step (the flag stays set when the image is later stored uncompressed);
    * the transfer syntax permits lossy compression: JPEG baseline or extended, JPEG-LS
      near-lossless, JPEG 2000 and HTJ2K other than their "Lossless Only" syntaxes, and the
      MPEG and HEVC video syntaxes. An encoder need not set the flag (pydicom's
      ``Dataset.compress`` does not), so the syntax is checked as well.

    Args:
        source: a DICOM file's path, or a ``pydicom.Dataset`` (with ``file_meta`` for the
            transfer syntax).

    Returns:
        One sentence per sign found; empty when neither sign is present (the values are then
        the scanner's, as far as the file can tell).

    Raises:
        DicomError: the path cannot be read as DICOM.
    """
    if isinstance(source, str | os.PathLike):
        p = Path(source)
        if not p.is_file():
            raise NotAFileError(f"{p}: no such file.", path=p)
        ds = _read(p, p.name)
    else:
        ds = source
    reasons = []
    if str(ds.get("LossyImageCompression", "") or "").strip() == "01":
        value = ds.get("LossyImageCompressionRatio")
        ratio = _float(value[0] if isinstance(value, Sequence) and not isinstance(value, str) else value)
        reasons.append(
            "Lossy Image Compression is 01" + (f" (ratio about {ratio:.0f}:1)" if ratio else "")
        )
    meta = getattr(ds, "file_meta", None)
    tsyntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if tsyntax:
        uid = UID(str(tsyntax))
        if _is_lossy_syntax(uid):
            reasons.append(f"the transfer syntax {uid.name} permits lossy compression")
    return tuple(reasons)
