"""The pages that show whether the fund is well run and what it achieved, shared by the
three roles that see every bid: liaison officers, finance and auditors (value for money,
each bid's dossier, the termly report and the control exceptions)."""
