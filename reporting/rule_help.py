"""Hand-written help for the table-specific rules (x100+) and the FILE/HDR rules: RULE_ID -> (example, fix).

The generic rules (x010-x050, code-list, range, duplicate, orphan and cascade rules) get their text
generated in ``reporting.catalogue``; an entry here overrides the generated text. Examples use RP
2017-11 (1-30 November 2017) and provider TSTP1.
"""

from __future__ import annotations

RULE_HELP: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- FILE
    "FILE001": (
        "A file for RP 2017-11 (Primary) uploaded on 8 January 2018, after that window closed.",
        "Late files cannot be accepted. Send the data in the next window, as the Refresh submission for that "
        "period, if the timetable still offers it.",
    ),
    "FILE002": (
        "Choosing RP 2018-03 while the open window offers only 2018-01 (Primary) and 2017-12 (Refresh).",
        "Check the submission timetable and choose a reporting period and window type that are open now.",
    ),
    "FILE003": (
        "Uploading idb.xls, idb.csv or idb.ods.",
        "Upload the Access database (.mdb or .accdb), a .zip of <Table>.csv files, or an .xlsx workbook.",
    ),
    "FILE004": (
        "An empty (0-byte) file, or a 700 MiB database.",
        "Check you picked the right file. Compact the Access database or zip it; a .zip is limited by its "
        "unzipped size instead.",
    ),
    "FILE005": (
        "A password-protected workbook, or a Word document renamed to idb.mdb.",
        "Remove any password or encryption and save the file again in the format its extension states.",
    ),
    "FILE006": (
        "A .zip whose CSV files are inside a folder (data/Person.csv), or that holds both idb.mdb and CSV files.",
        "Put either exactly one .mdb/.accdb file or the <Table>.csv files at the top level of the ZIP.",
    ),
    "FILE007": (
        "Person.csv saved as Windows-1252 (an é in a name), or a row with an unclosed double quote.",
        "Save the CSV files as UTF-8 and make sure every quoted field is closed; use the blank CSV template.",
    ),
    "FILE010": (
        "A P15STD file without WaitingTimePause.csv, or a sheet named 'person' instead of 'Person'.",
        "Supply every table of the profile, even when it has no rows, with the exact (case-sensitive) name. "
        "The blank templates contain every table.",
    ),
    "FILE011": (
        "A ZIP holding both Person.csv and Person.CSV.",
        "Keep one file per table and remove the other copy.",
    ),
    "FILE012": (
        "Appointment.csv without a CONSMEDIUM column, or with 'ConsMedium' instead of 'CONSMEDIUM'.",
        "Use the exact header row of the blank template; column names are case-sensitive.",
    ),
    "FILE013": (
        "Two columns named THERTYPE1 in Appointment.csv.",
        "Rename or remove the repeated column so each name occurs once.",
    ),
    "FILE014": (
        "An Access column APPOINTMENT of type Yes/No, or a score column stored as Hyperlink.",
        "Change the column's data type in Access to one allowed for its logical type (Text, Number or "
        "Date/Time as the specification lists).",
    ),
    "FILE015": (
        "A sheet 'Notes' in the workbook, or LTCCondition.csv in a 1.5.05 (P15STD) file.",
        "Nothing is loaded from it. Remove the extra table, or use the 1.5.4 IDB if you are an LTC/MUS pilot site.",
    ),
    "FILE016": (
        "A column 'COMMENTS' in Person.csv.",
        "The column is ignored. Remove it, or check it is not a misspelt data-set column.",
    ),
    "FILE020": (
        "A file whose Person or Referral table has only its header row.",
        "Every monthly file must contain at least one person and one referral.",
    ),
    "FILE021": (
        "Every referral was discharged before 1 November 2017, or every REFRECDATE is after 30 November 2017.",
        "Check the extract selects the referrals open in the reporting period, and the reporting period chosen "
        "at upload.",
    ),
    "FILE022": (
        "NHSNO = '9434765918' (wrong check digit), or '1111111111'.",
        "Correct or blank the invalid NHS number (and set NHSNOSTATUS accordingly); one invalid number "
        "rejects the whole file.",
    ),
    "FILE023": (
        "NHSNO '9434765919' on the Person rows of LPTID P0001 and LPTID P0002.",
        "Merge the duplicate patient records in your system, or correct the wrong NHS number.",
    ),
    "FILE090": (
        "Every Referral row has a reject, e.g. all have an ORGCODECOMM that is not a valid code.",
        "Fix the findings of the Referral rows (and their Person rows) listed in the report and upload again.",
    ),
    # ---------------------------------------------------------------- HDR
    "HDR010": (
        "A Header table with no row, or with two rows.",
        "The Header table must hold exactly one row: IDBVERSION, ORGCODEPROVIDER, START_DATE and END_DATE.",
    ),
    "HDR020": (
        "IDBVERSION = '1.5' or '2.0', or blank.",
        "Use 1.5.05 for the standard IDB, or 1.5.4 for the LTC/MUS pilot IDB.",
    ),
    "HDR030": (
        "IDBVERSION = '1.5.4' in a file uploaded on 1 March 2017.",
        "The pilot IDB is accepted from 3 March 2017; send a 1.5.05 file before that date.",
    ),
    "HDR040": (
        "IDBVERSION = '1.5.4' from a provider that is not an LTC/MUS pilot site.",
        "Use the standard 1.5.05 IDB, or ask the national team to register you as a pilot site.",
    ),
    "HDR050": (
        "ORGCODEPROVIDER = 'TST P1' or blank.",
        "Enter your organisation's ODS code: 3 to 6 letters or digits.",
    ),
    "HDR060": (
        "ORGCODEPROVIDER = 'TSTP2' in a file uploaded by a user of TSTP1.",
        "Enter the ODS code of the organisation you are signed in for, or sign in for the right organisation.",
    ),
    "HDR070": (
        "START_DATE = '2017-11-02', or END_DATE = '2017-11-31'.",
        "START_DATE must be the first and END_DATE the last day of the same month, as YYYY-MM-DD.",
    ),
    "HDR080": (
        "START_DATE = '2017-10-01' while RP 2017-11 was chosen at upload.",
        "Make the Header dates match the reporting period you chose, or choose the period the file is for.",
    ),
    # ---------------------------------------------------------------- Person
    "PER100": (
        "LPTID = 'P 0001' (space) or 'P#0001'.",
        "Use only letters, digits and . _ / - in LPTID, with no spaces.",
    ),
    "PER120": (
        "DOB = '2017-12-03' in RP 2017-11.",
        "Correct the date of birth; it cannot be after the end of the reporting period.",
    ),
    "PER130": (
        "DOB = '1890-05-01' (127 years old on 1 November 2017).",
        "Correct the date of birth; ages above 120 are treated as recording errors.",
    ),
    "PER140": (
        "NHSNOSTATUS = '01' (verified) with NHSNO blank; or NHSNOSTATUS = '07' with an NHS number.",
        "Make the status agree with the NHS number: supply the number for 01/02, or blank it for 07.",
    ),
    "PER150": (
        "POSTCODE = 'LS14AP' (no space) or 'LS1 4AP X'.",
        "Send the postcode with a space between its two parts, e.g. 'LS1 4AP'; use ZZ99 3VZ for no fixed abode.",
    ),
    "PER160": (
        "GMPC = 'B8600' (5 characters).",
        "Send the 6-character ODS code of the GP practice, or V81999 when it is not known.",
    ),
    "PER180": (
        "Person P0003 has no Referral row in the file.",
        "Remove people who have no referral in the file, or add the missing referral.",
    ),
    # ---------------------------------------------------------------- Disability
    "DIS140": (
        "Person P0001 has DISABILITY 'NN' (no disability) and also '02' (hearing).",
        "Remove the NN/ZZ row when the person has a recorded disability, or correct the other codes.",
    ),
    # ---------------------------------------------------------------- Referral
    "REF100": (
        "SERVICEID = 'R 0001' or 'R0001*'.",
        "Use only letters, digits and . _ / - in SERVICEID, with no spaces.",
    ),
    "REF140": (
        "ORGCODECOMM = '02-V' or 'NHS LEEDS'.",
        "Send the commissioner's ODS code: 3 to 5 letters or digits (e.g. 02V).",
    ),
    "REF150": (
        "ORGCODECOMM = '99Z', which is not a commissioner in the organisation register.",
        "Check the commissioner code; ask the national team if a current commissioner is missing from the register.",
    ),
    "REF160": (
        "ENDDATE = '2017-12-01' in RP 2017-11.",
        "Dates cannot be after the end of the reporting period; send future events in the month they happen.",
    ),
    "REF170": (
        "REFRECDATE = '1979-01-01' for a person born on 1980-05-17.",
        "Correct the referral date or the person's date of birth.",
    ),
    "REF190": (
        "OPTINDATE = '2017-09-30' with REFRECDATE = '2017-10-02'.",
        "The opt-in date cannot precede the referral; correct either date.",
    ),
    "REF200": (
        "PROVDIAG = 'DEPRESS' or 'F3'.",
        "Send an ICD-10 code such as F32.1 or F411 (a letter and two digits, optionally more characters).",
    ),
    "REF210": (
        "ONSETDATE = '2017-13' or '09/2017'.",
        "Send the onset as YYYY-MM, e.g. 2017-09.",
    ),
    "REF220": (
        "ONSETDATE = '2017-11' with REFRECDATE = '2017-10-02'.",
        "Symptom onset should be no later than the referral month and no earlier than the birth month.",
    ),
    "REF230": (
        "ORGCODEPROVIDSTEPTO = 'RX-1'.",
        "Send the ODS code of the provider stepped to: 3 to 6 letters or digits.",
    ),
    "REF240": (
        "ENDDATE = '2017-10-01' with REFRECDATE = '2017-10-02'.",
        "The discharge date cannot precede the referral date; correct either date.",
    ),
    "REF250": (
        "ENDDATE = '2017-09-15' in RP 2017-11, with no activity dated in November.",
        "Referrals that ended before the reporting period and had no activity in it should not be sent.",
    ),
    "REF260": (
        "ENDDATE = '2017-11-20' with ENDCODE blank.",
        "Record both the discharge date and the end code, or neither while the referral is open.",
    ),
    "REF270": (
        "ENDCODE = '50' (not assessed) while an appointment of the referral was attended (ATTENDANCE 5).",
        "Use the end code that matches what happened (e.g. 1x seen but not treated, or 4x treated).",
    ),
    "REF280": (
        "ENDCODE = '46' (completed treatment) with PROVDIAG blank.",
        "Record the problem descriptor (ICD-10) for every treated referral.",
    ),
    # ---------------------------------------------------------------- Appointment
    "APP100": (
        "APPTID = 'A 0001'.",
        "Use only letters, digits and . _ / - in APPTID, with no spaces.",
    ),
    "APP140": (
        "APPOINTMENT = '2017-12-04' in RP 2017-11.",
        "Send only appointments dated up to the end of the reporting period.",
    ),
    "APP150": (
        "APPOINTMENT = '2017-09-28' for a referral received on 2017-10-02.",
        "Correct the appointment date or the referral's REFRECDATE.",
    ),
    "APP160": (
        "APPOINTMENT = '2017-11-20' (APPTYPE 02) after the referral ended on 2017-11-10.",
        "Only post-treatment follow-ups (APPTYPE 06) may follow discharge; correct the dates or the type.",
    ),
    "APP190": (
        "FFCOMM = '01' with CONSMEDIUM = '02' (telephone).",
        "Record the face to face mode only for face to face appointments (CONSMEDIUM 01).",
    ),
    "APP200": (
        "ATTENDANCE = '2' (cancelled by patient) with CANCELLATION blank; or ATTENDANCE = '5' with CANCELLATION 'N'.",
        "Record CANCELLATION (Y/N) for patient cancellations only, and leave it blank otherwise.",
    ),
    "APP210": (
        "THERTYPE2 = '50' with THERTYPE1 blank, or THERTYPE1 and THERTYPE2 both '50'.",
        "Fill the therapy types from THERTYPE1 upwards and record each therapy once.",
    ),
    "APP220": (
        "An attended treatment appointment (ATTENDANCE 5, APPTYPE 02) with THERTYPE1 blank.",
        "Record the therapy delivered at every attended treatment appointment.",
    ),
    "APP230": (
        "PHQ9_SCORE = '12' on an appointment the patient did not attend (ATTENDANCE 3).",
        "Record therapies and scores only for attended appointments; check the attendance code.",
    ),
    "APP250": (
        "An attended assessment (ATTENDANCE 5, APPTYPE 01) with PHQ9_SCORE blank.",
        "Record the PHQ-9 and GAD-7 scores at every attended assessment and treatment appointment.",
    ),
    "APP260": (
        "Two attended appointments of R0001 on 2017-11-09 at 10:00.",
        "Remove the duplicate appointment, or correct its date or time.",
    ),
    "APP270": (
        "EMPSUPPORTREFERRAL = '2017-11-09' with EMPSUPPORTIND = 'N'.",
        "A referral to employment support needs EMPSUPPORTIND = Y; correct either item.",
    ),
    "APP280": (
        "CONTACTDURATION = '600', or '0' for an attended appointment.",
        "Record the clinical contact time in minutes (at most 480).",
    ),
    # ---------------------------------------------------------------- PEQs
    "APQ130": (
        "ASSESSPEQDATE = '2017-12-01' in RP 2017-11.",
        "Send only questionnaires completed up to the end of the reporting period.",
    ),
    "APQ140": (
        "ASSESSPEQDATE = '2017-09-30' for a referral received on 2017-10-02.",
        "Correct the questionnaire date or the referral's REFRECDATE.",
    ),
    "TPQ130": (
        "TREATPEQDATE = '2017-12-01' in RP 2017-11.",
        "Send only questionnaires completed up to the end of the reporting period.",
    ),
    "TPQ140": (
        "TREATPEQDATE = '2017-09-30' for a referral received on 2017-10-02.",
        "Correct the questionnaire date or the referral's REFRECDATE.",
    ),
    "TPQ160": (
        "A TreatmentPEQ row with TREATMENT1 to TREATMENT5 all blank.",
        "Send the answers, or do not send a questionnaire row that was not completed.",
    ),
    # ---------------------------------------------------------------- WaitingTimePause
    "WTP100": (
        "PAUSEID = 'P 1'.",
        "Use only letters, digits and . _ / - in PAUSEID, with no spaces.",
    ),
    "WTP140": (
        "PAUSEENDDATE = '2017-12-10' in RP 2017-11.",
        "Leave PAUSEENDDATE blank while the pause continues past the end of the reporting period.",
    ),
    "WTP150": (
        "PAUSESTARTDATE = '2017-09-01' for a referral received on 2017-10-02.",
        "A pause can start only after the referral was received; correct the dates.",
    ),
    "WTP160": (
        "PAUSESTARTDATE = '2017-11-10' and PAUSEENDDATE = '2017-11-05'.",
        "Correct the dates so the pause ends on or after the day it starts.",
    ),
    "WTP180": (
        "Pause 1 from 2017-11-01 to 2017-11-10 and pause 2 of the same referral from 2017-11-08.",
        "Pauses of one referral must not overlap; merge them or correct the dates.",
    ),
    # ---------------------------------------------------------------- pilots
    "LTC140": (
        "Referral R0001 has LTCCODE '97' (no long-term condition) and also '10' (diabetes).",
        "Remove the 97/98/99 row when a condition is recorded, or correct the codes.",
    ),
    "LTA150": (
        "PHQ15SCORE = '12' for an appointment with ATTENDANCE 3 (did not attend).",
        "Record scores only for attended appointments; check the attendance code.",
    ),
    "EA130": (
        "EmploymentAdviser rows in a Primary submission for RP 2017-08 (window opened in September 2017).",
        "EA data is accepted from the window that opened on 6 October 2017; send the table empty before then.",
    ),
    "EA140": (
        "EmploymentAdviser rows from a provider that is not an EA pilot site.",
        "Send the table empty (or leave it out), or ask the national team to register you as an EA pilot site.",
    ),
    "EA160": (
        "BENEFITRECIND = 'N' with ESAIND = 'Y'.",
        "Make the benefit items agree: if any benefit is received, BENEFITRECIND should be Y.",
    ),
    "EA170": (
        "WEEKHOURSWORKED = '01' while the appointment's EMPSTATUS = '02' (unemployed).",
        "Record hours worked only for employed people, or correct the employment status.",
    ),
    "EA180": (
        "EMPSUPPORTDISCHDATE = '2017-12-05' in RP 2017-11.",
        "Dates cannot be after the end of the reporting period; send the discharge in the month it happens.",
    ),
}
