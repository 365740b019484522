from pipelines.cli.commands import entry

entry()
