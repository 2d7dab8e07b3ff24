"""The storefront HTTP API (``personalize serve``): tracking, recommendations, profiles,
segments and predictions over one store, behind API keys. See docs/api.md.

    app = create_app("sqlite:///store.db")      # nothing opened until the app starts
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from .app import create_app
from .keys import create_key, list_keys, revoke_key, verify_token
from .settings import ApiSettings, get_api_settings

__all__ = [
    "ApiSettings",
    "create_app",
    "create_key",
    "get_api_settings",
    "list_keys",
    "revoke_key",
    "verify_token",
]
