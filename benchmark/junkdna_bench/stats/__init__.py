"""Statistics of dense-sparse gaps: paired tests, corrections, safe sparsity and the verdict.

The report schema lives in ``report_schema``; the one decision rule in ``decision``.
"""
