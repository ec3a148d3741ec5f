"""migagent.tools."""

if __name__ != "migagent.tools":  # the top-level tools/ folder is a symlink into migagent/
    raise ImportError(f"import migagent.tools, not {__name__}: tools/ is a view of migagent/tools/")
