"""The scheduled jobs (schedule layer, below the app): what `newsletter serve`'s scheduler runs.
Each takes its dependencies from `Jobs` (built by App.jobs) and reads time from its clock.

    Jobs.collect()          collect every source (pipeline.collect_all logs the run), then
                            check_alerts() in a worker thread
    Jobs.check_alerts()     monitor.source_alerts -> the source_alerts table; the curator is
                            mailed once per new alert (run 'alerts')
    Jobs.send(issue_date)   sync, for a worker thread: the day's issue if ready (or resume it if
                            sending); 'skipped: not ready' plus a note to the curator, 'skipped:
                            already sent', 'refused: <why>' (deadline, another send running);
                            then the archive rebuild (run 'archive')
    Jobs.rebuild_archive()  the static archive in App.archive_dir, served at /archive

Every run is in the runs table (start, end, outcome, counts in detail, error). Runs a job
writes itself carry detail.by = 'scheduler'; a send that went ahead is logged by
newsletter.send with its delivery counts, as `newsletter send` is.
"""

from .notes import alerts_note, curator_message, not_ready_note
from .runner import BY_SCHEDULER, JobRun, Jobs

__all__ = ["BY_SCHEDULER", "JobRun", "Jobs", "alerts_note", "curator_message", "not_ready_note"]
