"""Production settings for `gunicorn wsgi:app` (gunicorn reads ./gunicorn.conf.py by itself).

Command-line flags override these, and so does GUNICORN_CMD_ARGS.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 4

# Each worker listens on a socket of its own (SO_REUSEPORT), and the kernel spreads new
# connections across them. Without it, all workers accept from one shared socket, and the
# worker that happens to be awake takes most of a burst of connections. A kept-alive connection
# then stays with that worker. When the bench opened 32 keep-alive connections at 200 inbound
# SMS/s, one worker used 14 s of CPU and the other 1 s, so half the machine sat idle while
# requests queued. With this setting, the same run used 8 s and 9 s.
reuse_port = True

# Prometheus metrics from every worker process: prometheus-client keeps each worker's values in
# files under PROMETHEUS_MULTIPROC_DIR and /metrics (in whichever worker answers) adds them up.
# It must be set before a worker imports prometheus_client, so here in the master; a directory
# of our own unless one is given, emptied at start (stale files would count old workers again).
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
_own_metrics_dir = not _metrics_dir
if _own_metrics_dir:
    import tempfile

    _metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="engage-metrics-")


def on_starting(server):
    os.makedirs(_metrics_dir, exist_ok=True)
    for name in os.listdir(_metrics_dir):
        if name.endswith(".db"):
            os.remove(os.path.join(_metrics_dir, name))


def child_exit(server, worker):
    """A worker that exits (or is killed) leaves its counts; only its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        import shutil

        shutil.rmtree(_metrics_dir, ignore_errors=True)
