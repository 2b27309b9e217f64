"""Leaderboards: a board config (`<name>.yaml` here) names a sweep and its columns; `collect` reads
the sweep's results and per-sample scores (confidence intervals, paired tests against the baseline
variant), `render` writes the terminal table, Markdown and CSV, `page` the static HTML page."""
