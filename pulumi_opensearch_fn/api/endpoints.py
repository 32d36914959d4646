"""Where requests go: a region's public or VPC endpoint, or an explicit URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from .errors import InvalidInputError
from .validation import check_region

# Regions the official SDK maps; others are allowed, this list only feeds messages.
KNOWN_REGIONS = (
    "us-east-1", "eu-central-1", "cn-zhangjiakou", "cn-shenzhen", "cn-shanghai", "cn-qingdao",
    "cn-hongkong", "cn-hangzhou", "cn-beijing", "ap-southeast-5", "ap-southeast-1",
)  # fmt: skip


def region_endpoint(region: str, *, vpc: bool = False) -> str:
    host = "opensearch-vpc" if vpc else "opensearch"
    return f"https://{host}.{check_region(region)}.aliyuncs.com"


def normalize_endpoint(url: str) -> str:
    """Checks an explicit endpoint URL (a bare host gets https); no trailing slash."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError("endpoint must be a non-empty URL such as https://host")
    text = url.strip()
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise InvalidInputError(f"endpoint {url!r} must use http or https")
    if not parts.hostname:
        raise InvalidInputError(f"endpoint {url!r} has no host")
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        raise InvalidInputError(f"endpoint {url!r} must be scheme://host[:port] with no path")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise InvalidInputError(f"endpoint {url!r} has an invalid port") from None
    return f"{parts.scheme}://{parts.netloc}"
