"""Money in the store's currency: ISO 4217 codes, their symbols and minor units.

The codes are the active ISO 4217 currencies (funds, precious metals and test codes
left out: a store does not price in them). A symbol is used where one is widely read
without ambiguity; every other currency is written after the amount with its code.
"""

from __future__ import annotations

import difflib

# Active ISO 4217 codes in alphabetical order.
_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD
    JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
    MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
    QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER
    ZAR ZMW ZWG
"""
ISO_4217: tuple[str, ...] = tuple(_CODES.split())

SYMBOLS = {
    "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "INR": "₹", "KRW": "₩",
    "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "HKD": "HK$", "SGD": "S$", "MXN": "MX$",
    "BRL": "R$", "ILS": "₪", "NGN": "₦", "PHP": "₱", "THB": "฿", "TRY": "₺", "UAH": "₴",
    "VND": "₫", "PLN": "zł",
}  # fmt: skip
"""Prefix symbols; other codes follow the amount (``1,234.50 CHF``)."""

EXAMPLES = ("USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "INR")
"""Valid codes named by the error for an invalid one."""

_SUFFIXED = {"PLN"}  # written after the amount, like the code
_NO_MINOR = {
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "ISK",
    "JPY",
    "KMF",
    "KRW",
    "PYG",
    "RWF",
    "UGX",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
}
_THREE_MINOR = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}


def validate_currency(code: str) -> str:
    """``code`` upper-cased if it is an ISO 4217 currency.

    Raises:
        engine.errors.UserError: not a code; names the nearest codes and common ones.
    """
    from engine.errors import UserError

    text = str(code).strip().upper()
    if text in ISO_4217:
        return text
    near = difflib.get_close_matches(text, ISO_4217, n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(near)}?)" if near else ""
    raise UserError(
        f"invalid currency {code!r}{hint}: give a three-letter ISO 4217 code such as "
        f"{', '.join(EXAMPLES)} ({len(ISO_4217)} are known)"
    )


def minor_units(currency: str) -> int:
    """Digits after the decimal point: 2 for most, 0 for ``JPY``, 3 for ``KWD``."""
    return 0 if currency in _NO_MINOR else 3 if currency in _THREE_MINOR else 2


def affixes(currency: str) -> tuple[str, str]:
    """``(prefix, suffix)`` around an amount: ``("$", "")`` for USD, ``("", " CHF")``."""
    symbol = SYMBOLS.get(currency)
    if symbol is None or currency in _SUFFIXED:
        return "", f" {symbol or currency}"
    return symbol, ""


def format_money(value: float | None, currency: str, *, short: bool = False) -> str:
    """``value`` in ``currency``: ``$1,234.50``, ``1,234.50 CHF``, ``¥1,235``; ``None`` -> ``-``.

    ``short`` abbreviates large amounts for a tile: ``$434.5k``, ``$3.62M``.
    """
    if value is None:
        return "-"
    prefix, suffix = affixes(currency)
    sign, amount = ("-" if value < 0 else ""), abs(float(value))
    if short and amount >= 1_000_000:
        body = f"{amount / 1_000_000:,.2f}M"
    elif short and amount >= 10_000:
        body = f"{amount / 1_000:,.1f}k"
    else:
        body = f"{amount:,.{minor_units(currency)}f}"
    return f"{sign}{prefix}{body}{suffix}"
