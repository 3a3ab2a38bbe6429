"""The static leaderboard site: leaderboard data -> Markdown pages and plots -> mkdocs-material HTML.

``render`` writes pages from a summarized leaderboard, ``plots`` draws the figures, ``build``
runs summarize + render + ``mkdocs build --strict`` in one go and ``serve`` shows the result on
127.0.0.1. Every text that came from a submission is HTML-escaped by the templates (autoescape is
on) and only ever placed inside raw HTML blocks, never in Markdown headings or links.
"""
