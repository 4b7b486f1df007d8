"""Evaluation: metrics, runners and reports."""
