"""Fixed data of spec section 9: derived column order (10.4), thresholds (9.6) and code-list look-ups.

Code-list attributes (EndCode groups, ProblemDescriptor categories/ADSMs, Attendance, AppointmentType,
TherapyType intensities) are read from the data-set definition so that there is one source of truth;
thresholds are written here from the spec text of 9.6 (``DATASET`` carries no thresholds).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from validation.dataset import DATASET

ROW_NUMBER = "ROW_NUMBER"

# --------------------------------------------------------------------------------- 10.4 column order
PERSON_DERIVED: tuple[str, ...] = (
    "PERSON_ID",
    "AGE_RP_START",
    "AGE_RP_END",
    "YEAR_OF_BIRTH",
    "POSTCODE_DISTRICT",
)
REFERRAL_DERIVED: tuple[str, ...] = (
    "PATHWAY_ID",
    # 9.5
    "AGE_AT_REFERRAL",
    "REFERRED_IN_RP",
    "ENDED_IN_RP",
    "END_GROUP",
    "PD_CATEGORY",
    "ADSM_FOR_PD",
    "FIRST_ASSESSMENT_DATE",
    "FIRST_TREATMENT_DATE",
    "SECOND_TREATMENT_DATE",
    "LAST_TREATMENT_DATE",
    "COUNT_TREATMENT_APPTS",
    "COUNT_ATTENDED_APPTS",
    "COUNT_DNA_APPTS",
    "ENTERED_TREATMENT_IN_RP",
    "FINISHED_TREATMENT",
    "LI_TREATED",
    "HI_TREATED",
    # 9.6
    "FIRST_PHQ9",
    "LAST_PHQ9",
    "FIRST_GAD7",
    "LAST_GAD7",
    "ADSM",
    "FIRST_ADSM",
    "LAST_ADSM",
    "PAIRED_SCORES",
    # 9.7
    "OUTCOME_ELIGIBLE",
    "CASENESS",
    "RECOVERY",
    "RELIABLE_IMPROVEMENT",
    "RELIABLE_DETERIORATION",
    "NO_RELIABLE_CHANGE",
    "RELIABLE_RECOVERY",
    # 9.8
    "WAIT_DAYS",
    "WAIT_6WK",
    "WAIT_18WK",
    "PAUSED_DAYS",
    "WAIT_DAYS_ADJUSTED",
)
APPOINTMENT_DERIVED: tuple[str, ...] = (
    "ATTENDED",
    "IS_ASSESSMENT",
    "IS_TREATMENT",
    "IS_FOLLOWUP",
    "LOW_INTENSITY",
    "HIGH_INTENSITY",
    "WSAS_TOTAL",
    "TREATMENT_RANK",
)
DERIVED_COLUMNS: dict[str, tuple[str, ...]] = {
    "Person": PERSON_DERIVED,
    "Referral": REFERRAL_DERIVED,
    "Appointment": APPOINTMENT_DERIVED,
}


# ------------------------------------------------------------------------------------ 9.6 thresholds
@dataclass(frozen=True)
class Threshold:
    measure: str  # ADSM value, e.g. "PHQ9", "MI_ALONE"
    column: str  # Appointment column holding the score
    caseness: Decimal  # "at caseness" when score >= caseness
    reliable_change: Decimal  # "reliable" when |change| >= reliable_change


THRESHOLDS: dict[str, Threshold] = {
    t.measure: t
    for t in (
        Threshold("PHQ9", "PHQ9_SCORE", Decimal("10"), Decimal("6")),
        Threshold("GAD7", "GAD7SCORE", Decimal("8"), Decimal("4")),
        Threshold("MI_ALONE", "AGORASCOREALONE", Decimal("2.3"), Decimal("0.73")),
        Threshold("SPIN", "SOCPHOBIAINVSCORE", Decimal("19"), Decimal("10")),
        Threshold("PDSS", "PANICSCORE", Decimal("8"), Decimal("6")),
        Threshold("OCI", "OCDSCORE", Decimal("40"), Decimal("32")),
        Threshold("IESR", "PTSDSCORE", Decimal("33"), Decimal("9")),
        Threshold("HAI", "HEALTHANXSCORE", Decimal("18"), Decimal("4")),
    )
}
# ADSMs other than GAD-7, in the order tried (any order gives the same result: one per PD category).
ADSM_MEASURES: tuple[str, ...] = ("MI_ALONE", "SPIN", "PDSS", "OCI", "IESR", "HAI")

# Scores are compared as whole numbers of hundredths: every score column has at most 2 decimal places
# (decimal(3,2) is the widest) and every threshold is a multiple of 0.01, so integer arithmetic on the
# scaled values is exact decimal arithmetic (9.7).
SCALE = 100
for _t in THRESHOLDS.values():
    for _v in (_t.caseness, _t.reliable_change):
        assert (_v * SCALE) == (_v * SCALE).to_integral_value(), _v


def scaled(value: Decimal) -> int:
    return int(value * SCALE)


# ----------------------------------------------------------------------------------- code-list maps
def _attr(codelist: str, attribute: str) -> dict[str, str]:
    cl = DATASET.codelists[codelist]
    return {code: attrs[attribute] for code, attrs in cl.attributes.items() if attribute in attrs}


END_GROUP: dict[str, str] = _attr("EndCode", "group")
ATTENDED: dict[str, str] = _attr("Attendance", "attended")  # "5"/"6" -> "Y"
IS_ASSESSMENT: dict[str, str] = _attr("AppointmentType", "assessment")
IS_TREATMENT: dict[str, str] = _attr("AppointmentType", "treatment")
IS_FOLLOWUP: dict[str, str] = _attr("AppointmentType", "followup")
THERAPY_INTENSITY: dict[str, str] = _attr("TherapyType", "intensity")
LOW_THERAPIES: tuple[str, ...] = tuple(c for c, i in THERAPY_INTENSITY.items() if i == "LOW")
HIGH_THERAPIES: tuple[str, ...] = tuple(c for c, i in THERAPY_INTENSITY.items() if i == "HIGH")
PD_CATEGORY: dict[str, str] = _attr("ProblemDescriptor", "category")
PD_ADSM: dict[str, str] = _attr("ProblemDescriptor", "adsm")
GENDER_CODES: tuple[str, ...] = tuple(DATASET.codelists["Gender"].codes)
SCORING_APPTYPES: tuple[str, ...] = ("01", "02", "03", "04", "05")  # 9.6: 06 follow-ups never count
DNA_CODE = "3"

POSTCODE_RE = DATASET.formats["POSTCODE"]
POSTCODE_MAX = DATASET.tables["Person"].column("POSTCODE").length or 8
ICD10_RE = DATASET.formats["ICD10"]
PROVDIAG_MAX = DATASET.tables["Referral"].column("PROVDIAG").length or 6

# 9.5: PD_CATEGORY / ADSM_FOR_PD when PROVDIAG is blank or invalid, and for unmatched codes.
PD_NOT_RECORDED = ("NOT_RECORDED", "GAD7")
PD_OTHER_F = ("OTHER_F", "GAD7")
PD_OTHER = ("OTHER", "GAD7")

WAIT_6WK_DAYS = 42
WAIT_18WK_DAYS = 126
