"""Who may use the admin API: super-admins only (401 without credentials, 403 for
anyone else)."""

from __future__ import annotations

from streamcore.auth.dependencies import SuperAdminDep

AdminDep = SuperAdminDep
