"""migagent.agent."""
