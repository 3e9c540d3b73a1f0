"""Who the customers are: fake but plausible personal data, and how often they get in touch.

Why it is pure: a profile is a function of (seed, customer number, area) and activity of
(seed, customer number), both derived with :func:`~.randomness.mix` rather than the shared
random stream. Profiles are therefore recomputed on demand (behind a bounded cache) instead
of stored, which keeps memory flat however many customers there are.
"""

from __future__ import annotations

from functools import lru_cache

from .randomness import mix

#: Customers differ: half rarely get in touch, a few are on the phone every week.
#: (share of customers in thousandths, relative activity); the mean activity is 1.
ACTIVITY = ((500, 0.15), (350, 1.0), (150, 3.75))

_SURNAMES = (
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Lin",
    "Gao",
    "Luo",
)
_GIVEN = (
    "Wei",
    "Fang",
    "Na",
    "Min",
    "Jing",
    "Lei",
    "Qiang",
    "Yan",
    "Jun",
    "Yong",
    "Jie",
    "Tao",
    "Ming",
    "Xia",
    "Hui",
    "Ping",
    "Gang",
    "Hong",
    "Bo",
    "Li",
    "Xin",
    "Yu",
)
_STREETS = (
    "Xinhua Road",
    "Jiangning Road",
    "Wuning Road",
    "Changshou Road",
    "Tianshan Road",
    "Zhongshan North Road",
    "Huaihai Road",
    "Siping Road",
    "Guoding Road",
    "Lianhua Road",
    "Longwu Road",
    "Gumei Road",
    "Caoxi Road",
    "Yishan Road",
)
AREAS = (
    "Minhang",
    "Pudong",
    "Xuhui",
    "Jing'an",
    "Putuo",
    "Changning",
    "Yangpu",
    "Hongkou",
    "Baoshan",
    "Jiading",
    "Songjiang",
    "Qingpu",
)
_MAIL_DOMAINS = ("example.com", "example.net", "example.org")
_MOBILE_PREFIXES = ("139", "138", "137", "186", "158", "150", "188", "135", "177", "199")


@lru_cache(maxsize=4096)  # bounded: active customers repeat, memory stays flat
def profile(seed: int, customer: int, area: str) -> dict[str, str]:
    """Fake but plausible personal data, a pure function of (seed, customer number)."""
    h = mix(seed, customer)
    surname, given = _SURNAMES[h % 20], _GIVEN[(h >> 8) % len(_GIVEN)]
    number = (h >> 16) % 100_000_000
    mailbox = f"{given.lower()}.{surname.lower()}{(h >> 44) % 100}"
    return {
        "id": f"C{customer + 1:07d}",
        "name": f"{surname} {given}",
        "phone": f"+86 {_MOBILE_PREFIXES[(h >> 12) % 10]} {number // 10000:04d} "
        f"{number % 10000:04d}",
        "email": f"{mailbox}@{_MAIL_DOMAINS[(h >> 52) % 3]}",
        "account": f"PW{(h >> 20) % 10**10:010d}",
        "address": f"Room {(h >> 36) % 30 + 1}{(h >> 40) % 4 + 1:02d}, No. {(h >> 30) % 300 + 1} "
        f"{_STREETS[(h >> 24) % len(_STREETS)]}, {area} District",
        "social_handle": f"@{given.lower()}_{surname.lower()}{(h >> 48) % 90 + 10}",
    }


def activity(seed: int, customer: int) -> float:
    """How often this customer gets in touch relative to the average (a fixed trait)."""
    share = mix(seed, customer, 2) % 1000
    for cutoff, level in ACTIVITY:
        if share < cutoff:
            return level
        share -= cutoff
    return 1.0
