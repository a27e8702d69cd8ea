"""Will I pass? The exam-date forecast, the daily plan and the calibration report.

Pure modules (no database): ``model`` (probabilities and the pass rule),
``memory`` (FSRS replay of a learner's answers), ``retention`` (the exam-date
rule for desired retention and due dates), ``plan`` (오늘 할 일),
``calibration`` and ``simulation`` (simulated learners). Selectors and views
feed them rows from the database.
"""
