"""Per-customer VOC summaries, churn risk, the CSM brief and outgoing risk webhooks.

A stage over stored call analyses: plain functions over :mod:`insights.records`, no ORM, Prefect or
FastAPI here. ``models.call_facts`` loads the facts, ``models.customers`` stores the results; ``flows.customers`` wires it.
"""
