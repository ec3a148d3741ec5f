"""migagent.agent."""

if __name__ != "migagent.agent":  # the top-level agent/ folder is a symlink into migagent/
    raise ImportError(f"import migagent.agent, not {__name__}: agent/ is a view of migagent/agent/")
