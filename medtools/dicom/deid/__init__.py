"""De-identification of DICOM files: the Basic Application Level Confidentiality Profile (subpackage).

Introduced in the chapter *De-identifying DICOM files* (``chapters/deidentification``); reads
files as the chapter *Medical images as they arrive: DICOM* (:mod:`medtools.dicom`) does. Its
result is checked by an independent leak checker, :mod:`medtools.dicom.leaks`, which shares no
code or table with this subpackage.

DICOM PS3.15 Annex E, Table E.1-1, lists for every attribute that may identify a patient
what a de-identifier must do with it: ``D`` replace with a dummy value, ``Z`` replace with an
empty value, ``X`` remove, ``U`` replace a UID by a new one, consistently, and choices such
as ``X/Z`` (remove unless the IOD needs the attribute). :data:`TABLE_E1_1` holds every row of
the table of edition :data:`EDITION`, with its option columns.
How the table was obtained, and how every row is tested against a second source: see
:mod:`medtools.dicom.deid._table`. Attributes added to the table after 2024b are not rows here;
the blanket rules below cover the names, dates, UIDs and free text among them.

:func:`deidentify` applies the table, taking for a choice the first action that removes the
most (``X/Z``, ``X/D``, ``X/Z/D``, ``X/Z/U*`` → ``X``; ``Z/D`` → ``Z``), and adds rules that
hold wherever an element sits (any nesting depth):

* every private element is removed (the table's private row; Retain Safe Private is not
  supported);
* the whole overlay group (``60xx``, every element) and curves (``50xx``) are removed, and
  the unused high bits of uncompressed pixel data, where retired overlay planes hide, are
  cleared (set to the sign bit for signed pixels);
* every person name (VR ``PN``) is emptied, every date, time and date-time (``DA``, ``TM``,
  ``DT``) is emptied;
* every UID that is not a UID defined by the standard (SOP classes, transfer syntaxes, …)
  is replaced by ``2.25.<hash>`` of a secret salt and the UID (:func:`remap_uid`);
* every free-text element the table does not name (VR ``LO``, ``SH``, ``LT``, ``ST``,
  ``UT``, ``UC``, ``UR``, ``AE``) is removed unless its keyword is in :data:`KEEP_TEXT`, an
  explicit allow-list of attributes that describe the equipment or the coding, not a person;
  inside a sequence the table replaces by dummies (the ``ContentSequence`` of a report) such
  text is replaced by a dummy instead.

What it refuses (raises :class:`Refused`, a ``ValueError``, with the reason and the way out):

* pixel data with ``BurnedInAnnotation`` ``YES``, or without the attribute in a modality or
  SOP class that often carries burned-in text (:data:`BURNED_IN_RISK`: ultrasound, secondary
  capture and other captures), unless the caller chooses ``burned_in="remove_pixels"`` or,
  after cleaning the pixels, ``"keep"``; the Clean Pixel Data option is not implemented;
* pixel data with ``RecognizableVisualFeatures`` ``YES`` (a face), unless the caller chooses
  ``visual_features="remove_pixels"`` or ``"keep"``; the Clean Recognizable Visual Features
  option is not implemented, and a head volume without the attribute is not detected;
* a DICOMDIR: its ``ReferencedFileID`` values are paths whose folder names are often patient
  IDs. :func:`deidentify_fileset` de-identifies every file it references and writes a new
  file-set with new paths and a new DICOMDIR, as a file-set writer would.

:func:`conformance` lists every action and option of Table E.1-1 with its status here
(implemented, refused or not supported). The method is written into the file:
``PatientIdentityRemoved = YES``, ``DeidentificationMethod`` (naming the edition) and the
``DeidentificationMethodCodeSequence`` code (DCM, 113100, "Basic Application
Confidentiality Profile"). Pixel data are decoded only to clear unused high bits of
uncompressed images; compressed pixel data are left as they are.

Why pydicom directly and not ``dicognito`` or ``deid``: both are maintained and useful, but
``dicognito`` replaces identifying values with realistic random fakes (names, addresses)
rather than the profile's empty and removed values, and ``deid`` is driven by recipe files
whose default recipe is its authors' choice rather than Table E.1-1. The chapter compares this
module with ``dicognito`` attribute by attribute.

Modules: :mod:`~medtools.dicom.deid.profile` (the table parsed, the rules, :func:`deidentify`,
:func:`deidentify_file`, :func:`remap_uid`), :mod:`~medtools.dicom.deid.fileset`
(:func:`deidentify_fileset`), :mod:`~medtools.dicom.deid.conformance` (:func:`conformance`,
:func:`attribute_actions`) and the generated table itself, ``_table.py`` (pure data).
"""

from __future__ import annotations

from medtools.dicom.deid.conformance import attribute_actions, conformance
from medtools.dicom.deid.fileset import deidentify_fileset
from medtools.dicom.deid.profile import (
    BASIC_PROFILE,
    BURNED_IN_RISK,
    EDITION,
    KEEP_TEXT,
    TABLE_E1_1,
    DeidReport,
    Refused,
    deidentify,
    deidentify_file,
    remap_uid,
)

__all__ = [
    "BASIC_PROFILE",
    "BURNED_IN_RISK",
    "EDITION",
    "KEEP_TEXT",
    "TABLE_E1_1",
    "DeidReport",
    "Refused",
    "attribute_actions",
    "conformance",
    "deidentify",
    "deidentify_file",
    "deidentify_fileset",
    "remap_uid",
]
