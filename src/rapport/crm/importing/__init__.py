"""CSV import of contacts, products and orders: streamed, validated, upserted, with rejects.

``run_import`` is the one entry point; the CLI, the API and the background task call it.
"""
