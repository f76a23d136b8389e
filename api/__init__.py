"""koe's HTTP service: the JSON API and the server-rendered pages (``koe serve``)."""

from __future__ import annotations
