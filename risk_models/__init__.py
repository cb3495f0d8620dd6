"""Fraud-risk models: synthetic data, training, evaluation, registry and scoring."""
