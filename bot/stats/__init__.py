"""The editors' statistics: `/stats` and `/stats season N` (issue 15, part 7).

`model` (pure: facts → frozen summaries), `words` (a season's titles → word counts,
jieba for Chinese), `fonts` (the one CJK font lookup), `charts` (summaries → PNG bytes,
matplotlib's Agg canvas and wordcloud), `render` (the text replies). The facts are
`data.stats`'; the command is `handlers.stats`.
"""
