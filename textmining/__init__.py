"""Text-mining stage: a ``Transcript`` in, a ``CallAnalysis`` out (tokens, topics, sentiment, tags, PII)."""
