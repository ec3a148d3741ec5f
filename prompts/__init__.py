"""migagent.prompts."""
