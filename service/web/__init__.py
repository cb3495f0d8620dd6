"""The claims workbench: server-rendered pages under /app for the people who work the claims.

The pages call the same domain services as the API (service/claims, investigations, rulebooks)
and admit the same roles (security.MAY); sign-in is by the person's API key, then a signed
session cookie; every form carries the session's CSRF token.
"""
