"""migagent.evals."""

if __name__ != "migagent.evals":  # the top-level evals/ folder is a symlink into migagent/
    raise ImportError(f"import migagent.evals, not {__name__}: evals/ is a view of migagent/evals/")
