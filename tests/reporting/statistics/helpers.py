"""Hand-built derived Referral/Appointment frames (String columns as derive() produces them)."""

from __future__ import annotations

import polars as pl

from reporting.statistics import APPOINTMENT_COLUMNS, REFERRAL_COLUMNS, SubmissionData

PERIOD = "2017-11"
FLAGS_N = (
    "REFERRED_IN_RP",
    "ENTERED_TREATMENT_IN_RP",
    "ENDED_IN_RP",
    "FINISHED_TREATMENT",
    "OUTCOME_ELIGIBLE",
)


class Builder:
    """Collects referral groups and appointments for one provider; SERVICEIDs R1, R2, ... in order."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.refs: list[dict[str, str | None]] = []
        self.appts: list[dict[str, str | None]] = []

    def referrals(self, n: int, comm: str, **flags: str | None) -> list[str]:
        ids = []
        for _ in range(n):
            sid = f"R{len(self.refs) + 1}"
            row: dict[str, str | None] = dict.fromkeys(REFERRAL_COLUMNS)
            row.update(dict.fromkeys(FLAGS_N, "N"))
            row.update(SERVICEID=sid, ORGCODECOMM=comm, SOURCEREFERRAL="A1")
            row.update(flags)
            self.refs.append(row)
            ids.append(sid)
        return ids

    def appointments(self, serviceid: str, n: int, attendance: str, date: str = "2017-11-15") -> None:
        for _ in range(n):
            self.appts.append(
                {
                    "SERVICEID": serviceid,
                    "APPOINTMENT": date,
                    "ATTENDANCE": attendance,
                    "APPTID": f"A{len(self.appts)}",
                }
            )

    def submission(self, window_type: str | None = None) -> SubmissionData:
        ref = pl.DataFrame(self.refs, schema=dict.fromkeys(REFERRAL_COLUMNS, pl.String))
        appt = pl.DataFrame(
            self.appts, schema={**dict.fromkeys(APPOINTMENT_COLUMNS, pl.String), "APPTID": pl.String}
        )
        return SubmissionData(self.provider, ref, appt, window_type=window_type)


FINISHED = {"ENDED_IN_RP": "Y", "FINISHED_TREATMENT": "Y"}
PAIRED = {**FINISHED, "OUTCOME_ELIGIBLE": "Y"}
RECOVERED_RELIABLY = {
    **PAIRED,
    "CASENESS": "Y",
    "RECOVERY": "Y",
    "RELIABLE_IMPROVEMENT": "Y",
    "RELIABLE_RECOVERY": "Y",
    "RELIABLE_DETERIORATION": "N",
    "WAIT_6WK": "Y",
    "WAIT_18WK": "Y",
}


def provider_one() -> Builder:
    b = Builder("TSTP1")
    c1_new = b.referrals(7, "C1", REFERRED_IN_RP="Y", SOURCEREFERRAL="B1")  # g1
    c2_new = b.referrals(6, "C2", REFERRED_IN_RP="Y", SOURCEREFERRAL="A1")  # g2
    b.referrals(8, "C1", ENTERED_TREATMENT_IN_RP="Y")  # g3
    b.referrals(3, "C1", ENDED_IN_RP="Y")  # g4: ended, not finished
    b.referrals(2, "C1", **FINISHED, WAIT_6WK="Y", WAIT_18WK="Y")  # g5: finished, no paired scores
    b.referrals(9, "C1", **RECOVERED_RELIABLY)  # g6
    b.referrals(  # g7: at caseness, improved, not recovered
        4,
        "C2",
        **PAIRED,
        CASENESS="Y",
        RECOVERY="N",
        RELIABLE_IMPROVEMENT="Y",
        RELIABLE_RECOVERY="N",
        RELIABLE_DETERIORATION="N",
        WAIT_6WK="N",
        WAIT_18WK="Y",
    )
    b.referrals(  # g8: not at caseness (RECOVERY and RELIABLE_RECOVERY blank)
        2,
        "C1",
        **PAIRED,
        CASENESS="N",
        RELIABLE_IMPROVEMENT="N",
        RELIABLE_DETERIORATION="N",
        WAIT_6WK="N",
        WAIT_18WK="N",
    )
    b.referrals(  # g9: deteriorated
        1,
        "C1",
        **PAIRED,
        CASENESS="Y",
        RECOVERY="N",
        RELIABLE_IMPROVEMENT="N",
        RELIABLE_RECOVERY="N",
        RELIABLE_DETERIORATION="Y",
        WAIT_6WK="N",
        WAIT_18WK="Y",
    )
    b.referrals(5, "C1", **{**RECOVERED_RELIABLY, "ENDED_IN_RP": "N"})  # g10: did not end in the RP
    b.referrals(1, "C1", **FINISHED, RECOVERY="Y")  # g11: not eligible, stray RECOVERY must not count
    r_c1, r_c2 = c1_new[0], c2_new[0]
    for att, n in (("5", 6), ("6", 1), ("3", 3), ("7", 1), ("2", 2), ("4", 1)):
        b.appointments(r_c1, n, att)
    b.appointments(r_c1, 1, "5", "2017-10-31")
    b.appointments(r_c1, 1, "5", "2017-12-01")
    b.appointments(r_c1, 1, "3", "2017-12-01")
    b.appointments(r_c2, 2, "3", "2017-11-01")
    b.appointments(r_c2, 3, "5", "2017-11-30")
    return b


def provider_two() -> Builder:
    b = Builder("TSTP2")
    b.referrals(
        5, "C2", REFERRED_IN_RP="Y", SOURCEREFERRAL="B1"
    )  # R1-R5 (same SERVICEIDs as TSTP1's C1 rows)
    c3 = b.referrals(5, "C3", **RECOVERED_RELIABLY)  # R6-R10
    b.appointments(c3[0], 4, "5")
    b.appointments(c3[0], 1, "3")
    return b
