from slimfile.cli import entry

entry()
