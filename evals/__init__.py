"""migagent.evals."""
