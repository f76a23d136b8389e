"""koe (声): Japanese customer-support calls in, Voice-of-Customer insight out."""

from __future__ import annotations

__version__ = "0.1.0"

#: Recorded with every processed call and run; bump when a stage's output changes meaning.
PIPELINE_VERSION = "2026.11.1"
