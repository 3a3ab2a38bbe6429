"""Scoring a model without training it: multiple-choice log-likelihoods and generated answers.

``prompts`` builds the prompts (multiple choice in lm-evaluation-harness's formats, shots dropped
to fit a token cap; open- and closed-book questions); ``loglik`` scores each option's
continuation on a causal LM and picks the answer (``acc``, and ``acc_norm`` per character);
``generate`` decodes answers greedily; ``answers`` scores them (SQuAD's exact match and token F1,
and the Junk DNA paper's lenient containment rule).
"""
