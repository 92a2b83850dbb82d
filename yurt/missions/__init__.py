"""The missions feature's use cases (issue 12's service layer): plain functions that take their store and
arguments, raise domain errors, and know nothing of Flask or HTTP. The HTTP modules map those errors to
problems. For now this holds the staff use cases the console added; the rest moves here with issue 12.
"""
