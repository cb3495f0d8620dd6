"""Complaints and inquiries: received on any channel, answered within minutes of service time and
resolved within working days, with their causes; statistics for management."""
