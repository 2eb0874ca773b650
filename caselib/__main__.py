from caselib.cli import cli

cli()
