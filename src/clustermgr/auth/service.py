"""Authentication as front ends use it: ``from clustermgr.auth import service as auth``.

The work is split by topic (users, login, sessions, tokens, totp, setup); this
module gathers the public functions and constants in one namespace.  Every
function that changes something writes its audit entry in the same
transaction; the actions are:

================  ==========================================================
``user.create``   a user was created (actor ``system`` for first-start setup),
                  detail ``role``
``user.role``     a user's role changed, detail ``from`` and ``to``
``user.password`` a password was changed (every web session of the user ended)
``login``         result ``ok``, ``failed`` (detail ``reason``) or ``refused``
                  (throttled, detail ``retry_after``); detail ``client`` always
``logout``        one session ended; ``logout.all``: every session of a user
``token.create``  ``token.revoke``: API tokens, detail ``name`` (and the new token's
                  ``role`` and ``expires_at``)
``totp.enable``   ``totp.disable``
================  ==========================================================
"""

from __future__ import annotations

from clustermgr.auth.account import change_password, create_own_token, disable_own_totp
from clustermgr.auth.login import (
    FAILURE_WINDOW,
    FREE_FAILURES,
    MAX_DELAY,
    authenticate,
    delay_after,
)
from clustermgr.auth.passwords import MIN_PASSWORD_LENGTH, check_strength
from clustermgr.auth.roles import UserRole
from clustermgr.auth.sessions import (
    SESSION_LIFETIME,
    end_all_sessions,
    end_session,
    session_for,
    start_session,
)
from clustermgr.auth.setup import complete_setup, setup_token
from clustermgr.auth.tokens import (
    DEFAULT_TOKEN_DAYS,
    MAX_TOKEN_DAYS,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
    user_for_token,
)
from clustermgr.auth.totp import begin_totp, disable_totp, enable_totp
from clustermgr.auth.users import create_user, list_users, set_password, set_role, user_count
from clustermgr.auth.views import ApiTokenView, SessionView, UserView

__all__ = [
    "DEFAULT_TOKEN_DAYS",
    "FAILURE_WINDOW",
    "FREE_FAILURES",
    "MAX_DELAY",
    "MAX_TOKEN_DAYS",
    "MIN_PASSWORD_LENGTH",
    "SESSION_LIFETIME",
    "ApiTokenView",
    "SessionView",
    "UserRole",
    "UserView",
    "authenticate",
    "begin_totp",
    "change_password",
    "check_strength",
    "complete_setup",
    "create_api_token",
    "create_own_token",
    "create_user",
    "delay_after",
    "disable_own_totp",
    "disable_totp",
    "enable_totp",
    "end_all_sessions",
    "end_session",
    "list_api_tokens",
    "list_users",
    "revoke_api_token",
    "session_for",
    "set_password",
    "set_role",
    "setup_token",
    "start_session",
    "user_count",
    "user_for_token",
]
