"""migagent.tools."""
