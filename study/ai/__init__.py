"""What the app asks an LLM for and how far it trusts the answer: explanations (on
demand and prefetched), the independent check, the text guard, subject notes, the
session analysis and the live state each card shows.
"""
