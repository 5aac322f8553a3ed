"""De-identification of DICOM files: the Basic Application Level Confidentiality Profile.

Introduced in the chapter *Security and privacy* (``chapters/privacy``); reads files as the
chapter *Medical images as they arrive: DICOM* (:mod:`medtools.dicom`) does.

DICOM PS3.15 Annex E, Table E.1-1, lists for every attribute that may identify a patient
what a de-identifier must do with it: ``D`` replace with a dummy value, ``Z`` replace with an
empty value, ``X`` remove, ``U`` replace a UID by a new one, consistently, and choices such
as ``X/Z`` (remove unless the IOD needs the attribute). :data:`BASIC_PROFILE` holds the
table's Basic Profile column (643 single attributes, as published in 2025 and transcribed from
the standard's HTML page as scraped on 2025-06-24 by the idiscore project; the table's
repeating groups and private tags are handled by rules below). :func:`deidentify` applies it,
taking for a choice the first action that removes the most (``X/Z`` and ``X/D`` → ``X``,
``Z/D`` → ``Z``), and adds rules that hold wherever an element sits (any nesting
depth), so that attributes the table does not name are covered too:

* every private element is removed (the profile's default; no Retain Safe Private option);
* every person name (VR ``PN``) is emptied;
* every date, time and date-time (VR ``DA``, ``TM``, ``DT``) is emptied
  (``LongitudinalTemporalInformationModified`` becomes ``REMOVED``);
* every UID that is not a UID defined by the standard (SOP classes, transfer syntaxes, …)
  is replaced by ``2.25.<hash>`` of a secret salt and the UID (:func:`remap_uid`), so the
  same UID maps to the same new UID in every file de-identified with the same salt;
* curves (group ``50xx``) and overlay data and comments (``60xx,3000`` and ``60xx,4000``)
  are removed.

It writes ``PatientIdentityRemoved = YES``, ``DeidentificationMethod`` and the
``DeidentificationMethodCodeSequence`` code (DCM, 113100, "Basic Application
Confidentiality Profile"). The profile does not clean pixel data: a file whose
``BurnedInAnnotation`` is ``YES`` is refused unless the caller chooses to drop or keep its
pixels. Pixel data are never decoded, so files without pixel data and compressed transfer
syntaxes are de-identified like any other (their header is all this changes).

Why pydicom directly and not ``dicognito`` or ``deid``: both are maintained and useful, but
``dicognito`` replaces identifying values with realistic random fakes (names, addresses)
rather than the profile's empty and removed values, and ``deid`` is driven by recipe files
whose default recipe is its authors' choice rather than Table E.1-1; a table of the
profile's own actions plus the blanket rules above is short, has no dependency
beyond pydicom, and can be checked line by line against the standard.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pydicom
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag
from pydicom.uid import UID

__all__ = [
    "BASIC_PROFILE",
    "DeidReport",
    "deidentify",
    "deidentify_file",
    "find_values",
    "identifying_values",
    "remap_uid",
]

#: PS3.15 Table E.1-1, Basic Profile column, by action: keywords of pydicom's data dictionary,
#: or ``GGGGEEEE`` hex for the few tags the dictionary does not name.
_BASIC_PROFILE_TEXT = {
    "D": (
        "AcquisitionFieldOfViewLabel AnnotationGroupLabel AnnotationGroupUID AssertionDateTime "
        "AttributeModificationDateTime BeamHoldTransitionDateTime CertificateOfSigner "
        "ClinicalTrialProtocolEthicsCommitteeName ClinicalTrialProtocolID ClinicalTrialSponsorName "
        "ClinicalTrialSubjectID ClinicalTrialSubjectReadingID ContainerIdentifier ContentSequence "
        "ContextGroupLocalVersion ContextGroupVersion Date DateTime DecayCorrectionDateTime DestinationAE "
        "DeviceLabel DigitalSignatureDateTime EffectiveDateTime EncapsulatedDocument EntityLabel "
        "EntityLongLabel ExclusionStartDateTime FlowIdentifier FlowIdentifierSequence "
        "FrameAcquisitionDateTime FrameOriginTimestamp FrameReferenceDateTime FunctionalSyncPulse "
        "GraphicAnnotationSequence HangingProtocolCreationDateTime ImpedanceMeasurementDateTime "
        "InformationIssueDateTime InterlockDateTime InterlockDescription InterlockOriginDescription "
        "ModifyingSystem OverrideDateTime PersonIdentificationCodeSequence PersonName RTPlanLabel "
        "RTPrescriptionLabel RTToleranceSetLabel RadiationDoseIdentificationLabel "
        "RadiationDoseInVivoMeasurementLabel RadiationGenerationModeLabel "
        "ReasonForTheAttributeModification RecordedRTControlPointDateTime ReferencedDateTime "
        "SafePositionExitDate SafePositionExitTime SafePositionReturnDate SafePositionReturnTime "
        "SelectorAEValue SelectorASValue SelectorDAValue SelectorDTValue SelectorLOValue SelectorLTValue "
        "SelectorOBValue SelectorPNValue SelectorSHValue SelectorSTValue SelectorTMValue SelectorUNValue "
        "SelectorURValue SelectorUTValue SourceEndDateTime SourceIdentifier SourceStartDateTime "
        "SourceStrengthReferenceDate SourceStrengthReferenceTime SpecimenIdentifier StructureSetLabel "
        "Time TreatmentControlPointDate TreatmentControlPointTime TreatmentPositionGroupLabel "
        "TreatmentToleranceViolationDateTime TreatmentToleranceViolationDescription UserContentLabel "
        "UserContentLongLabel VerificationDateTime VerifyingObserverName VerifyingObserverSequence "
        "VerifyingOrganization XRayDetectorID XRaySourceID "
    ),
    "Z": (
        "AccessionNumber CalibrationDateTime ClinicalTrialCoordinatingCenterName "
        "ClinicalTrialProtocolName ClinicalTrialSiteID ClinicalTrialSiteName ClinicalTrialTimePointID "
        "ConceptualVolumeCombinationDescription ConceptualVolumeDescription ConsultingPhysicianName "
        "DeviceAlternateIdentifier FillerOrderNumberImagingServiceRequest FractionationNotes "
        "IssuerOfTheContainerIdentifierSequence IssuerOfTheSpecimenIdentifierSequence "
        "ManufacturerDeviceIdentifier ParticipationDateTime PatientBirthDate PatientName PatientSex "
        "PlacerOrderNumberImagingServiceRequest PrescriptionNotes PrescriptionNotesSequence "
        "ROIInterpreter ROIName RTAccessoryDeviceSlotID RTAccessoryHolderSlotID "
        "RTPhysicianIntentNarrative RadiationGenerationModeDescription ReasonForSuperseding "
        "ReferringPhysicianName ReviewDate ReviewTime SourceOfPreviousValues SpecimenPreparationSequence "
        "StructureSetDate StructureSetTime StudyDate StudyID StudyTime TreatmentTechniqueNotes "
        "VerifyingObserverIdentificationCodeSequence "
    ),
    "X": (
        "00081301 00081302 00081303 00081304 00100011 00100012 00100013 00100014 00100015 00100016 "
        "00100041 00100042 00100043 00100044 00100045 00100046 00100047 00102162 0040A034 0040A035 "
        "0040B034 0040B036 0040B03B 0040B03F AcquisitionComments AcquisitionProtocolDescription "
        "ActualHumanPerformersSequence AdditionalPatientHistory AddressTrial AdmissionID AdmittingDate "
        "AdmittingDiagnosesCodeSequence AdmittingDiagnosesDescription AdmittingTime "
        "AffectedSOPInstanceUID Allergies AnnotationGroupDescription ApprovalStatusDateTime Arbitrary "
        "AssertionExpirationDateTime AuthorObserverSequence BeamDescription BolusDescription "
        "BranchOfService CalibrationDate CalibrationTime CameraOwnerName CassetteID CertifiedTimestamp "
        "ClinicalTrialProtocolEthicsCommitteeApprovalNumber ClinicalTrialSeriesDescription "
        "ClinicalTrialSeriesID ClinicalTrialTimePointDescription CommentsOnRadiationDose "
        "CommentsOnThePerformedProcedureStep CompensatorDescription "
        "ConfidentialityConstraintOnPatientDataDescription ConsultingPhysicianIdentificationSequence "
        "ContainerComponentID ContainerDescription ContentCreatorIdentificationCodeSequence "
        "ContrastBolusStartTime ContrastBolusStopTime ContributionDateTime ContributionDescription "
        "CountryOfResidence CreationDate CreationTime CurrentObserverTrial CurrentPatientLocation "
        "CurveDate CurveTime CustodialOrganizationSequence DataSetTrailingPadding "
        "DateOfDocumentOrVerbalTransactionTrial DateOfInstallation DateOfLastCalibration "
        "DateOfManufacture DateOfSecondaryCapture DateTimeOfLastCalibration DecompositionDescription "
        "DerivationDescription DeviceDescription DeviceSettingDescription DigitalSignaturesSequence "
        "DischargeDate DischargeDiagnosisDescription DischargeTime DisplacementReferenceLabel "
        "DistributionAddress DistributionName DoseReferenceDescription EntityDescription EntityName "
        "EquipmentFrameOfReferenceDescription EthicsCommitteeApprovalEffectivenessEndDate "
        "EthicsCommitteeApprovalEffectivenessStartDate EthnicGroup EthnicGroupCodeSequence "
        "ExpectedCompletionDateTime FilterLookupTableDescription FindingsGroupRecordingDateTrial "
        "FindingsGroupRecordingTimeTrial FixationDeviceDescription FractionGroupDescription FrameComments "
        "GPSAltitude GPSAltitudeRef GPSAreaInformation GPSDOP GPSDateStamp GPSDestBearing "
        "GPSDestBearingRef GPSDestDistance GPSDestDistanceRef GPSDestLatitude GPSDestLatitudeRef "
        "GPSDestLongitude GPSDestLongitudeRef GPSDifferential GPSImgDirection GPSImgDirectionRef "
        "GPSLatitude GPSLatitudeRef GPSLongitude GPSLongitudeRef GPSMapDatum GPSMeasureMode "
        "GPSProcessingMethod GPSSatellites GPSSpeed GPSSpeedRef GPSStatus GPSTimeStamp GPSTrack "
        "GPSTrackRef GPSVersionID GantryID GeneratorID HL7DocumentEffectiveTime HumanPerformerName "
        "HumanPerformerOrganization IconImageSequence IdentifyingComments ImageComments "
        "ImagePresentationComments ImagingServiceRequestComments Impressions InstanceCoercionDateTime "
        "InstanceOriginStatus InstitutionAddress InstitutionalDepartmentName "
        "InstitutionalDepartmentTypeCodeSequence InsurancePlanIdentification IntendedFractionStartTime "
        "IntendedRecipientsOfResultsIdentificationSequence InterpretationApprovalDate "
        "InterpretationApprovalTime InterpretationApproverSequence InterpretationAuthor "
        "InterpretationDiagnosisDescription InterpretationID InterpretationIDIssuer "
        "InterpretationRecordedDate InterpretationRecordedTime InterpretationRecorder InterpretationText "
        "InterpretationTranscriber InterpretationTranscriptionDate InterpretationTranscriptionTime "
        "InterventionDrugStartTime InterventionDrugStopTime IssueDateOfImagingServiceRequest "
        "IssueTimeOfImagingServiceRequest IssuerOfAdmissionID IssuerOfAdmissionIDSequence "
        "IssuerOfClinicalTrialProtocolID IssuerOfClinicalTrialSeriesID IssuerOfClinicalTrialSiteID "
        "IssuerOfClinicalTrialSubjectID IssuerOfClinicalTrialSubjectReadingID "
        "IssuerOfClinicalTrialTimePointID IssuerOfPatientID IssuerOfServiceEpisodeID "
        "IssuerOfServiceEpisodeIDSequence LastMenstrualDate LensMake LensModel LensSerialNumber "
        "LensSpecification LongDeviceDescription MAC MakerNote MedicalAlerts MedicalRecordLocator "
        "MilitaryRank ModifiedAttributesSequence ModifiedImageDate ModifiedImageDescription "
        "ModifiedImageTime ModifyingDeviceID MultienergyAcquisitionDescription "
        "NameOfPhysiciansReadingStudy NamesOfIntendedRecipientsOfResults NetworkID "
        "NonconformingDataElementValue NonconformingModifiedAttributesSequence ObservationDateTrial "
        "ObservationStartDateTime ObservationTimeTrial Occupation OrderCallbackPhoneNumber "
        "OrderCallbackTelecomInformation OrderEnteredBy OrderEntererLocation OriginalAttributesSequence "
        "Originator OtherClinicalTrialProtocolIDsSequence OtherPatientIDs OtherPatientIDsSequence "
        "OtherPatientNames OverlayDate OverlayTime ParticipantSequence PatientAddress PatientAge "
        "PatientBirthName PatientBirthTime PatientComments PatientInstitutionResidence "
        "PatientInsurancePlanCodeSequence PatientMotherBirthName PatientPrimaryLanguageCodeSequence "
        "PatientPrimaryLanguageModifierCodeSequence PatientReligiousPreference "
        "PatientSetupPhotoDescription PatientSize PatientState PatientTelecomInformation "
        "PatientTelephoneNumbers PatientTransportArrangements "
        "PatientTreatmentPreparationMethodDescription "
        "PatientTreatmentPreparationProcedureParameterDescription PatientWeight PerformedLocation "
        "PerformedProcedureStepDescription PerformedProcedureStepEndDate "
        "PerformedProcedureStepEndDateTime PerformedProcedureStepEndTime PerformedProcedureStepID "
        "PerformedProcedureStepStartDate PerformedProcedureStepStartDateTime "
        "PerformedProcedureStepStartTime PerformedStationAETitle "
        "PerformedStationGeographicLocationCodeSequence PerformedStationName "
        "PerformedStationNameCodeSequence PerformingPhysicianIdentificationSequence "
        "PerformingPhysicianName PersonAddress PersonTelecomInformation PersonTelephoneNumbers "
        "PhysicianApprovingInterpretation PhysiciansOfRecord PhysiciansOfRecordIdentificationSequence "
        "PhysiciansReadingStudyIdentificationSequence PlateID PositionAcquisitionTemplateDescription "
        "PositionAcquisitionTemplateName PreMedication PregnancyStatus PrescriptionDescription "
        "PresentationCreationDate PresentationCreationTime PriorTreatmentDoseDescription "
        "ProcedureStepCancellationDateTime ProductExpirationDateTime PyramidDescription PyramidLabel "
        "ROICreatorSequence ROIDateTime ROIDescription ROIGenerationDescription ROIInterpreterSequence "
        "ROIObservationDateTime ROIObservationDescription ROIObservationLabel RTPlanDescription "
        "RTPlanName RadiopharmaceuticalStartDateTime RadiopharmaceuticalStartTime "
        "RadiopharmaceuticalStopDateTime RadiopharmaceuticalStopTime ReasonForOmissionDescription "
        "ReasonForRequestedProcedureCodeSequence ReasonForStudy ReasonForTheImagingServiceRequest "
        "ReasonForTheRequestedProcedure ReasonForVisit ReasonForVisitCodeSequence ReceivingAE "
        "ReferencedDigitalSignatureSequence ReferencedPatientAliasSequence ReferencedPatientPhotoSequence "
        "ReferencedPatientSequence ReferencedSOPInstanceMACSequence ReferringPhysicianAddress "
        "ReferringPhysicianIdentificationSequence ReferringPhysicianTelephoneNumbers RegionOfResidence "
        "RequestAttributesSequence RequestedContrastAgent RequestedProcedureComments RequestedProcedureID "
        "RequestedProcedureLocation RequestedSeriesDescription RequestingAE RequestingPhysician "
        "RequestingService RespiratoryMotionCompensationTechniqueDescription ResponsibleOrganization "
        "ResponsiblePerson ResultsComments ResultsDistributionListSequence ResultsID ResultsIDIssuer "
        "RetrieveAETitle SOPAuthorizationDateTime ScheduledAdmissionDate ScheduledAdmissionTime "
        "ScheduledDischargeDate ScheduledDischargeTime ScheduledHumanPerformersSequence "
        "ScheduledPatientInstitutionResidence ScheduledPerformingPhysicianIdentificationSequence "
        "ScheduledPerformingPhysicianName ScheduledProcedureStepDescription ScheduledProcedureStepEndDate "
        "ScheduledProcedureStepEndTime ScheduledProcedureStepExpirationDateTime ScheduledProcedureStepID "
        "ScheduledProcedureStepLocation ScheduledProcedureStepModificationDateTime "
        "ScheduledProcedureStepStartDate ScheduledProcedureStepStartDateTime "
        "ScheduledProcedureStepStartTime ScheduledStationAETitle "
        "ScheduledStationGeographicLocationCodeSequence ScheduledStationName "
        "ScheduledStationNameCodeSequence ScheduledStudyLocation ScheduledStudyLocationAETitle "
        "ScheduledStudyStartDate ScheduledStudyStartTime ScheduledStudyStopDate ScheduledStudyStopTime "
        "SeriesDescription ServiceEpisodeDescription ServiceEpisodeID SetupTechniqueDescription "
        "ShieldingDeviceDescription SlideIdentifier SmokingStatus SourceManufacturer SpecialNeeds "
        "SpecimenAccessionNumber SpecimenDetailedDescription SpecimenShortDescription StationAETitle "
        "StructureSetDescription StructureSetName StudyArrivalDate StudyArrivalTime StudyComments "
        "StudyCompletionDate StudyCompletionTime StudyDescription StudyIDIssuer StudyReadDate "
        "StudyReadTime StudyVerifiedDate StudyVerifiedTime SubstanceAdministrationDateTime "
        "TelephoneNumberTrial TemplateLocalVersion TemplateVersion TextComments TextString "
        "TimeOfDocumentCreationOrVerbalTransactionTrial TimeOfLastCalibration TimeOfSecondaryCapture "
        "TimezoneOffsetFromUTC TopicAuthor TopicKeywords TopicSubject TopicTitle "
        "TransducerIdentificationSequence TreatmentSites UDISequence UniqueDeviceIdentifier "
        "VerbalSourceIdentifierCodeSequenceTrial VerbalSourceTrial VisitComments "
        "WaveformFilterDescription XRayDetectorLabel "
    ),
    "U": (
        "AcquisitionUID ConcatenationUID ConceptualVolumeUID ConstituentConceptualVolumeUID DeviceUID "
        "DigitalSignatureUID DimensionOrganizationUID DoseReferenceUID DosimetricObjectiveUID "
        "FailedSOPInstanceUIDList FiducialUID FrameOfReferenceUID InstanceCreatorUID IrradiationEventUID "
        "LargePaletteColorLookupTableUID ManufacturerDeviceClassUID MediaStorageSOPInstanceUID "
        "MultiplexGroupUID ObservationSubjectUIDTrial ObservationUID PaletteColorLookupTableUID "
        "PatientSetupUID PresentationDisplayCollectionUID PresentationSequenceCollectionUID PyramidUID "
        "RTTreatmentPhaseUID ReferencedConceptualVolumeUID ReferencedDoseReferenceUID "
        "ReferencedDosimetricObjectiveUID ReferencedFiducialsUID ReferencedFrameOfReferenceUID "
        "ReferencedGeneralPurposeScheduledProcedureStepTransactionUID ReferencedObservationUIDTrial "
        "ReferencedSOPInstanceUID ReferencedSOPInstanceUIDInFile ReferencedTreatmentPositionGroupUID "
        "RelatedFrameOfReferenceUID RequestedSOPInstanceUID SOPInstanceUID SeriesInstanceUID "
        "SourceConceptualVolumeUID SourceFrameOfReferenceUID SpecimenUID StorageMediaFileSetUID "
        "StudyInstanceUID SynchronizationFrameOfReferenceUID TableTopPositionAlignmentUID TargetUID "
        "TemplateExtensionCreatorUID TemplateExtensionOrganizationUID TrackingUID TransactionUID "
        "TreatmentPositionGroupUID TreatmentSessionUID UID "
    ),
    "Z/D": (
        "ContentCreatorName ContentDate ContentTime ContrastBolusAgent InstructionPerformedDateTime "
        "PatientID "
    ),
    "X/Z": (
        "AcquisitionContextSequence AcquisitionDate AcquisitionTime BarcodeValue LabelText "
        "PatientSexNeutered ReferencedStudySequence RequestedProcedureDescription ReviewerName "
        "SourceSerialNumber TreatmentMachineName "
    ),
    "X/D": (
        "AcquisitionDeviceProcessingDescription DateOfLastDetectorCalibration DetectorID "
        "EndAcquisitionDateTime FirstTreatmentDate InstanceCreationDate IntendedPhaseEndDate "
        "IntendedPhaseStartDate MostRecentTreatmentDate ObservationDateTime "
        "OperatorIdentificationSequence ProtocolName RTPlanDate RTPlanTime RTTreatmentApproachLabel "
        "SeriesDate SeriesTime StartAcquisitionDateTime TimeOfLastDetectorCalibration TreatmentDate "
        "TreatmentSite TreatmentTime "
    ),
    "X/Z/D": (
        "AcquisitionDateTime DeviceSerialNumber InstanceCreationTime InstitutionCodeSequence "
        "InstitutionName OperatorsName ReferencedPerformedProcedureStepSequence StationName "
    ),
    "X/Z/U": (
        "ReferencedImageSequence SourceImageSequence "
    ),
}


def _parse_profile() -> dict[int, str]:
    out: dict[int, str] = {}
    for action, words in _BASIC_PROFILE_TEXT.items():
        for word in words.split():
            tag = tag_for_keyword(word) if not all(c in "0123456789ABCDEF" for c in word) else int(word, 16)
            if tag is None:  # pragma: no cover - the table is generated from pydicom's dictionary
                raise RuntimeError(f"unknown keyword in the profile table: {word}")
            out[int(tag)] = action
    return out


#: Tag (int) → Basic Profile action code (``"D"``, ``"Z"``, ``"X"``, ``"U"``, ``"Z/D"``, ``"X/Z"``,
#: ``"X/D"``, ``"X/Z/D"``, ``"X/Z/U"``), from PS3.15 Annex E Table E.1-1.
BASIC_PROFILE: dict[int, str] = _parse_profile()

_DEID_CODE = ("113100", "DCM", "Basic Application Confidentiality Profile")
_METHOD = "DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile (medtools.deid)"
_DUMMY = {"PN": "ANONYMOUS", "DA": "19000101", "TM": "000000", "DT": "19000101000000", "AS": "000D"}
_TEXT_VRS = {"AE", "CS", "LO", "LT", "SH", "ST", "UC", "UR", "UT"}
_FREE_TEXT_VRS = {"LT", "ST", "UT", "UC"}
_NUMBER_VRS = {"DS", "IS", "US", "SS", "UL", "SL", "UV", "SV", "FL", "FD"}
_BINARY_VRS = {"OB", "OW", "OD", "OF", "OL", "OV", "UN"}
_COMPRESSED_HINT = "pixel data left encoded as they were (the header is de-identified; pixels are not inspected)"


def _standard_uids() -> frozenset[str]:
    from pydicom._uid_dict import UID_dictionary

    return frozenset(UID_dictionary)


_STANDARD_UIDS = _standard_uids()


@dataclass
class DeidReport:
    """What :func:`deidentify` did to one data set.

    Attributes:
        actions: counts per action: ``"X"`` removed, ``"Z"`` emptied, ``"D"`` dummy,
            ``"U"`` UID remapped, ``"private"`` private elements removed.
        notes: remarks a reader should know (no pixel data, compressed transfer syntax,
            burned-in annotation).
        has_pixel_data: whether the input had ``PixelData`` (or float/double pixel data).
        transfer_syntax: the input's transfer syntax UID, or ``""`` without file meta.
    """

    actions: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    has_pixel_data: bool = False
    transfer_syntax: str = ""


def remap_uid(uid: str, salt: str) -> str:
    """A new UID ``2.25.<int>`` derived from ``salt`` and ``uid`` (SHA-512, as pydicom's ``generate_uid``).

    The same ``(uid, salt)`` always gives the same result, so references between files stay
    consistent; without the salt the mapping cannot be inverted by re-hashing known UIDs.
    UIDs defined by the DICOM standard itself are returned unchanged.
    """
    uid = str(uid).strip("\0 ")
    if not uid or uid in _STANDARD_UIDS:
        return uid
    digest = hashlib.sha512(f"{salt}\0{uid}".encode()).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"  # a 128-bit integer: at most 39 digits


def _dummy(vr: str) -> Any:
    if vr in _DUMMY:
        return _DUMMY[vr]
    if vr in _TEXT_VRS:
        return "ANONYMIZED"
    if vr in _NUMBER_VRS:
        return "0" if vr in ("DS", "IS") else 0
    if vr in _BINARY_VRS:
        return b"\0\0"
    return None


def _is_overlay_or_curve(tag: BaseTag) -> bool:
    group = tag.group
    return (0x5000 <= group <= 0x501E) or (0x6000 <= group <= 0x601E and tag.element in (0x3000, 0x4000))


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        return list(value)
    return [value]


def _process(ds: Dataset, salt: str, report: DeidReport, structured: bool = False) -> None:
    # structured: inside a sequence the profile replaces by a dummy (ContentSequence of a
    # structured report): its free text (LT, ST, UT, UC) is replaced by the dummy text too.
    for tag in list(ds.keys()):
        elem = ds[tag]
        vr = elem.VR
        if tag.is_private:
            del ds[tag]
            report.actions["private"] += 1
            continue
        if _is_overlay_or_curve(tag):
            del ds[tag]
            report.actions["X"] += 1
            continue
        action = BASIC_PROFILE.get(int(tag))
        if action is None:  # the blanket rules
            if vr == "SQ":
                for item in elem.value:
                    _process(item, salt, report, structured)
            elif structured and vr in _FREE_TEXT_VRS and elem.value not in (None, ""):
                elem.value = _dummy(vr)
                report.actions["D"] += 1
            elif vr == "PN" and elem.value not in (None, ""):
                elem.value = ""
                report.actions["Z"] += 1
            elif vr in ("DA", "TM", "DT") and elem.value not in (None, ""):
                elem.value = ""
                report.actions["Z"] += 1
            elif vr == "UI" and elem.value not in (None, ""):
                new = [remap_uid(u, salt) for u in _values(elem.value)]
                if new != [str(u) for u in _values(elem.value)]:
                    elem.value = new if len(new) > 1 else new[0]
                    report.actions["U"] += 1
            continue
        first = action.split("/")[0]
        if first == "X":
            del ds[tag]
        elif first == "Z":
            elem.value = DicomSequence([]) if vr == "SQ" else ("" if vr not in _NUMBER_VRS - {"DS", "IS"} else None)
        elif first == "U":
            if elem.value not in (None, ""):
                new = [remap_uid(u, salt) for u in _values(elem.value)]
                elem.value = new if len(new) > 1 else new[0]
        elif first == "D":
            if vr == "SQ":  # a dummy sequence: keep the structure, de-identify every item
                for item in elem.value:
                    _process(item, salt, report, structured=True)
            else:
                dummy = _dummy(vr)
                if dummy is None:
                    del ds[tag]
                    first = "X"
                else:
                    elem.value = dummy
        report.actions[first] += 1


def deidentify(
    ds: Dataset,
    *,
    salt: str,
    burned_in: Literal["error", "remove_pixels", "keep"] = "error",
) -> tuple[Dataset, DeidReport]:
    """De-identify a pydicom data set with the Basic Profile (see the module docstring).

    The input is not changed; a de-identified deep copy is returned.

    Args:
        ds: a ``pydicom.Dataset`` (with or without file meta).
        salt: a secret string for :func:`remap_uid`; use the same salt for all files of a
            project to keep references between them, and never publish it.
        burned_in: what to do when ``BurnedInAnnotation`` is ``YES`` (the pixels show
            identifying text, which this profile does not clean): ``"error"`` (default)
            raises, ``"remove_pixels"`` removes the pixel data, ``"keep"`` keeps them
            (after you have cleaned them yourself).

    Returns:
        ``(de-identified copy, DeidReport)``.

    Raises:
        TypeError: ``ds`` is not a pydicom data set.
        ValueError: an empty salt, an unknown ``burned_in``, or burned-in annotation with
            ``burned_in="error"``.
    """
    if not isinstance(ds, Dataset):
        raise TypeError(f"deidentify needs a pydicom Dataset (pydicom.dcmread(path)), got {type(ds).__name__}.")
    if not isinstance(salt, str) or not salt:
        raise ValueError("salt must be a non-empty secret string (the same for all files of one project).")
    if burned_in not in ("error", "remove_pixels", "keep"):
        raise ValueError(f"burned_in must be 'error', 'remove_pixels' or 'keep', got {burned_in!r}.")
    report = DeidReport()
    pixel_tags = [t for t in (0x7FE00010, 0x7FE00008, 0x7FE00009) if t in ds]
    report.has_pixel_data = bool(pixel_tags)
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    report.transfer_syntax = ts
    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES" and pixel_tags:
        if burned_in == "error":
            raise ValueError(
                "BurnedInAnnotation is YES: the pixels show identifying text, which the Basic Profile "
                "does not remove. Pass burned_in='remove_pixels' to drop the pixel data, or clean the "
                "pixels yourself and pass burned_in='keep'."
            )
        report.notes.append(f"burned-in annotation: pixel data {'removed' if burned_in == 'remove_pixels' else 'kept'}")
    if not pixel_tags:
        report.notes.append("no pixel data: header de-identified only")
    elif ts and UID(ts).is_compressed:
        report.notes.append(f"compressed transfer syntax {UID(ts).name}: {_COMPRESSED_HINT}")

    out = copy.deepcopy(ds)
    if burned_in == "remove_pixels" and str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
        for t in pixel_tags:
            del out[t]
    _process(out, salt, report)
    if meta is not None:
        out_meta = out.file_meta
        for tag in list(out_meta.keys()):
            if tag in (0x00020003,):  # MediaStorageSOPInstanceUID: must equal the new SOPInstanceUID
                out_meta[tag].value = remap_uid(out_meta[tag].value, salt)
            elif tag in (0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102):
                del out_meta[tag]  # source/sending/receiving AE titles, private information
        # The de-identified file is written by pydicom: name it, not the original's software.
        out_meta.ImplementationClassUID = pydicom.uid.PYDICOM_IMPLEMENTATION_UID
        out_meta.ImplementationVersionName = f"PYDICOM {pydicom.__version__}"[:16]
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = _METHOD
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = _DEID_CODE
    out.DeidentificationMethodCodeSequence = DicomSequence([code])
    out.LongitudinalTemporalInformationModified = "REMOVED"
    return out, report


def deidentify_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str] | None = None,
    *,
    salt: str,
    burned_in: Literal["error", "remove_pixels", "keep"] = "error",
) -> tuple[Dataset, DeidReport]:
    """Read a DICOM file, de-identify it (:func:`deidentify`) and optionally write it to ``dst``.

    Raises:
        FileNotFoundError: ``src`` does not exist.
        ValueError: ``src`` is not a DICOM file (with pydicom's reason), or as
            :func:`deidentify`.
    """
    path = Path(src)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        ds = pydicom.dcmread(path)
    except pydicom.errors.InvalidDicomError as exc:
        raise ValueError(f"{path.name} is not a DICOM file ({exc}); nothing to de-identify.") from exc
    out, report = deidentify(ds, salt=salt, burned_in=burned_in)
    if dst is not None:
        if isinstance(out, FileDataset) and getattr(out, "file_meta", None) is not None and "TransferSyntaxUID" in out.file_meta:
            out.save_as(dst, enforce_file_format=False)
        else:
            out.save_as(dst, implicit_vr=True, little_endian=True, enforce_file_format=False)
    return out, report


def _walk(ds: Dataset, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Every element of ``ds`` and of its file meta, sequences included: ``(path, element, value)``."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None and not prefix:
        for elem in meta:
            yield f"file_meta.{elem.keyword or elem.tag}", elem, elem.value
    for elem in ds:
        name = f"{prefix}{elem.keyword or elem.tag}"
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value or []):
                yield from _walk(item, f"{name}[{i}].")
        else:
            yield name, elem, elem.value


def _strings(value: Any) -> list[str]:
    out = []
    for v in _values(value):
        if isinstance(v, bytes):
            out.append(v.decode("latin-1", errors="replace"))
        else:
            out.append(str(v))
    return out


def identifying_values(ds: Dataset, *, min_length: int = 4) -> set[str]:
    """The values of ``ds`` that could identify the patient or the staff, as strings.

    Collected at any depth, private elements included:

    * every person name (VR ``PN``) and each of its ``^``-separated components;
    * every date and date-time (``DA``, ``DT``) and time (``TM``);
    * every UID not defined by the standard (instance, series, study, frame-of-reference UIDs…);
    * the text values (VRs ``AE``, ``LO``, ``LT``, ``SH``, ``ST``, ``UC``, ``UT``) of every
      attribute the Basic Profile acts on (IDs, institution, station, descriptions), except a
      value that the original also holds in (or inside) an element the profile keeps: such a
      string (``"WHOLE BODY"`` as a study description and as ``BodyPartExamined``, an
      institution ``"TOSHIBA"`` inside the manufacturer ``"TOSHIBA_MEC"``) describes the
      equipment or the imaging, and the profile retains it on purpose.

    Values shorter than ``min_length`` characters (``"M"``, ``"1"``) are left out: they occur
    everywhere and identify no one by themselves. Values of private elements are not listed
    unless they are names, dates or UIDs (a private element often copies a slice thickness);
    :func:`deidentify` removes private elements whole.

    Returns:
        A set of non-empty stripped strings.
    """
    found: set[str] = set()
    descriptive: set[str] = set()
    kept: set[str] = set()
    for _, elem, value in _walk(ds):
        tag, vr = elem.tag, elem.VR
        if tag.group == 0x0002 and int(tag) != 0x00020003:
            continue  # file meta: only the media storage SOP instance UID is about the patient
        strings = [s.strip("\0 ") for s in _strings(value)] if vr not in _BINARY_VRS else []
        if vr == "PN":
            strings += [part.strip() for s in strings for part in s.replace("=", "^").split("^")]
        elif vr == "UI":
            strings = [s for s in strings if s not in _STANDARD_UIDS]
        elif vr in ("DA", "DT", "TM"):
            pass
        elif vr in _TEXT_VRS - {"CS", "UR"} and int(tag) in BASIC_PROFILE and not tag.is_private:
            descriptive.update(s for s in strings if len(s) >= min_length)
            continue
        else:
            if not tag.is_private and int(tag) not in BASIC_PROFILE:
                kept.update(strings)
            continue
        found.update(s for s in strings if len(s) >= min_length)
    return found | {v for v in descriptive if not any(v in k for k in kept)}


def find_values(ds: Dataset, values: Iterable[str]) -> list[tuple[str, str]]:
    """Where any of ``values`` occurs in ``ds`` (any depth, file meta included).

    A value counts as found when it equals an element's value (or one of its values), or —
    for values of at least 4 characters — occurs inside a text element's value.

    Returns:
        ``[(element path, value), …]``, empty when none survives.
    """
    wanted = {v for v in values if v}
    hits = []
    for path, elem, value in _walk(ds):
        if elem.VR in _BINARY_VRS and int(elem.tag) in (0x7FE00010, 0x7FE00008, 0x7FE00009):
            continue  # pixel data: not text
        for s in _strings(value):
            s = s.strip("\0 ")
            if not s:
                continue
            if s in wanted:
                hits.append((path, s))
            elif elem.VR in _TEXT_VRS | {"PN"}:
                hits.extend((path, w) for w in wanted if len(w) >= 4 and w in s)
    return hits
