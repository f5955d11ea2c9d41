"""The two template environments: HTML (autoescaped) and text (SMS, subject, plain email).

HTML parts escape member data (a first name of `<script>` must stay text); SMS and plain text
must not, or "Tom & Jerry" would arrive as "Tom &amp; Jerry".
"""

from __future__ import annotations

import functools

from jinja2 import Template

from engage.templating.defaults import LAYOUT
from engage.templating.filters import LOCALE_FILTERS
from engage.templating.sandbox import EngageSandbox

HTML_FIELDS = frozenset({"html", LAYOUT})

HTML_ENV = EngageSandbox(autoescape=True, filters=LOCALE_FILTERS)
TEXT_ENV = EngageSandbox(autoescape=False, filters=LOCALE_FILTERS)


def environment_for(field: str) -> EngageSandbox:
    """The environment a template part renders in: HTML escapes, everything else doesn't."""
    return HTML_ENV if field in HTML_FIELDS else TEXT_ENV


@functools.lru_cache(maxsize=512)
def compile_template(field: str, source: str) -> Template:
    """Compiled template for one part; cached because flows render the same source often."""
    return environment_for(field).from_string(source)
