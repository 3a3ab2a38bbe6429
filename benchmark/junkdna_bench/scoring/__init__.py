"""Scoring a model without training it: log-likelihood of multiple-choice answers given a prompt."""
