"""Pulumi data sources, read-only resources and gates for OpenSearch function instances."""
