"""Repeated and similar questions across exam rounds: the rules that compare two
questions, the vector maths, thresholds and grades (pure), and the services and
selectors that compute, store and read each question's relations.
"""
