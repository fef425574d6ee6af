"""The application layer: every use case is one function (or a small class) here, with its
dependencies passed in. Flows call store / collect / render / mail and never a face.

    collecting.py   collect every source (fetch -> parse -> store, one transaction a source)
    add.py          add by URL: an X post, an arXiv id or any web page becomes an item
    curate.py       triage, undo, edits, drafts, the picks' order
    compose.py      build / arrange / ready an issue, render it (or its stored snapshot)
    send.py         send or resume an issue, test copies; refusals carry a code
    subscribe.py    subscribe / confirm / unsubscribe (double opt-in)
    roster.py       the operator's subscriber list: add, remove, CSV import and export
    users.py        curator accounts, logins and sessions
    monitor.py      which sources need attention (a pure decision)
    jobs.py         the scheduled jobs: collect, alerts, send, archive (job_notes.py: their mail)
"""
