"""Rectification: problems found by supervision, complaints and surveys, each with an owner, a
requirement, a deadline and the evidence it was put right; overdue ones stand out."""
