"""`python -m app.cli`: the same command line as the `caseledger` script."""

from app.cli.main import main

main()
