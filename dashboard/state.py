"""What the pages share and keep in the address: the customer, the "As of" day, a context.

Every shared choice lives in the URL's query parameters (``?customer=c00042&as_of=...``),
so a link or a reload shows the same view, and in a session mirror, because Streamlit
clears query parameters when the user switches pages: the next page writes the mirror
back into its address. A value in the address wins over the mirror (a pasted link, the
tour's steps); a page that finds a value it cannot use picks its own and shares that.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

import streamlit as st

CUSTOMER = "customer"
AS_OF = "as_of"
CONTEXT_PARAMS = {
    "weather": "weather",
    "time_of_day": "time",
    "location": "location",
    "device": "device",
}
"""A recommendation context's fields and their parameter names (``?weather=rainy&time=evening``)."""
COMPARE_SUFFIXES = ("_a", "_b")
"""Suffixes of the two contexts compared on Recommendations (``?weather_a=sunny``)."""

KNOWN = (
    CUSTOMER,
    AS_OF,
    *(p + s for p in CONTEXT_PARAMS.values() for s in ("", *COMPARE_SUFFIXES)),
)
"""Every parameter the dashboard shares; others in the address are left alone."""

_MIRROR = "shared_url_state"  # st.session_state key of the mirror (a dict)


def _mirror() -> dict[str, str]:
    return st.session_state.setdefault(_MIRROR, {})


def shared(param: str) -> str | None:
    """The shared value of ``param``: the address's if it has one, else the session's."""
    given = st.query_params.get(param)
    if given:
        _mirror()[param] = given
    value = _mirror().get(param)
    if value and st.query_params.get(param) != value:
        st.query_params[param] = value  # back into the address after a page switch
    return value


def share(param: str, value: str | None) -> None:
    """Make ``value`` the shared ``param`` (``None`` forgets it), in the session and address."""
    if value is None or value == "":
        _mirror().pop(param, None)
        if param in st.query_params:
            del st.query_params[param]
        return
    _mirror()[param] = str(value)
    if st.query_params.get(param) != str(value):
        st.query_params[param] = str(value)


def shared_customer() -> str | None:
    """The customer every page follows (``None`` until one is chosen)."""
    return shared(CUSTOMER)


def share_customer(customer_id: str | None) -> None:
    share(CUSTOMER, customer_id)


def current_params() -> dict[str, str]:
    """Every shared value, for a link that reopens this view."""
    for param in KNOWN:
        shared(param)
    return dict(sorted(_mirror().items()))


def link_params(**overrides: str | None) -> dict[str, str]:
    """The current shared values with ``overrides`` (``None`` drops one): a page link's
    ``query_params`` that carries the customer and "As of" along."""
    params = current_params()
    for key, value in overrides.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return params


def context_params(fields: Mapping[str, str | None], suffix: str = "") -> dict[str, str]:
    """A context's fields as query parameters (``{"weather": "rainy", "time": "evening"}``)."""
    return {CONTEXT_PARAMS[f] + suffix: v for f, v in fields.items() if v}


def shareable_link(base_url: str | None, params: Mapping[str, str]) -> str:
    """``base_url`` (the page's address without a query) with ``params`` as its query."""
    base = base_url or ""
    return f"{base}?{urlencode(params)}" if params else base
