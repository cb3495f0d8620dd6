"""Satisfaction follow-up: the survey after a claim ends, online or by a call from its team."""
