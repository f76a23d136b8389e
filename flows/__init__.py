"""Prefect flows and tasks: wiring, retries and logging over the stages. No business logic."""
