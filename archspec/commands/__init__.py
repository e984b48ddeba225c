"""The ``archspec`` commands behind :mod:`archspec.cli`: their parsers (:mod:`.parsers`), the option values they
read (:mod:`.options`), the shared load-analyse-render steps (:mod:`.reports`) and one module per kind of command.

Every module here imports what a command needs only when it runs, so that ``import archspec.cli`` costs argparse.
"""
