"""Resident and staff accounts: registration, log-in sessions, roles.

Accounts live in the shared kernel because every domain package needs to know who
is acting, and none of them should own identity (their HTTP side is in ``kernel.http``).
Nothing here enters the audit log:
domain packages log pseudonymous ids (``User.public_id``), never e-mail or names.
"""
