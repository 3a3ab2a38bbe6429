"""Scoring a model without training it: log-likelihood of multiple-choice answers given a prompt.

``prompts`` builds the prompts in lm-evaluation-harness's formats (shots dropped to fit a token
cap); ``loglik`` scores each option's continuation on a causal LM and picks the answer
(``acc``, and ``acc_norm`` per character).
"""
