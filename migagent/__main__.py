"""`python -m migagent`: the same as the `migagent` command."""

from migagent.cli import main

if __name__ == "__main__":
    main()
