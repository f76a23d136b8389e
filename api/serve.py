"""``koe serve --workers N``: N server processes, each accepting on its own socket.

uvicorn's own ``--workers`` shares one listening socket between the processes, and asyncio accepts
every pending connection at once in whichever process wakes first. A burst of new connections (a
reverse proxy or a client opening its pool) then lands on one worker and stays there for as long as
those keep-alive connections live, while the other workers idle: ``bench/api.py`` found 29 of its
32 connections on one of two workers, which halved throughput and doubled the p99 in the runs where
it happened. Here every worker listens on its own ``SO_REUSEPORT`` socket on the same address, and
the kernel spreads new connections over the workers by the hash of their addresses.

The parent process only supervises: a worker that dies is started again (unless it dies during
start-up, which would only repeat: then all workers stop and ``koe serve`` exits with an error);
SIGTERM or SIGINT stops every worker gracefully (uvicorn finishes the requests in flight).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import time
from multiprocessing.process import BaseProcess
from types import FrameType

from koe.errors import ConfigError

log = logging.getLogger("koe.serve")

APP = "api.app:server_app"
#: A worker that exits sooner than this after starting failed to start; restarting it would loop.
STARTUP_S = 10.0
#: How long a stopping worker may take to finish the requests in flight before it is killed.
GRACE_S = 30.0
BACKLOG = 2048


def reuse_port_supported() -> bool:
    """Whether the kernel balances new connections over ``SO_REUSEPORT`` sockets (Linux does)."""
    return hasattr(socket, "SO_REUSEPORT") and sys.platform.startswith("linux")


def listen_socket(host: str, port: int, *, reuse_port: bool = True, listen: bool = True) -> socket.socket:
    """A TCP socket bound to ``host:port``, listening unless ``listen`` is False.

    With ``reuse_port`` (the workers), other ``SO_REUSEPORT`` sockets of this user may share the
    address; without it (the supervisor's check before starting them), the bind fails if anything
    listens there already, so two ``koe serve`` on one port do not silently split the traffic.

    Raises:
        ConfigError: when the address cannot be bound (in use, no such interface, a privileged port).

    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port} ({exc}); set --host/--port or KOE_HOST/KOE_PORT") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        if listen:
            sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); is another server using the port? "
            "Choose another with --port or KOE_PORT"
        ) from exc
    return sock


def _worker(host: str, port: int, log_level: str, app: str, access_log: bool) -> None:
    import uvicorn

    sock = listen_socket(host, port)
    config = uvicorn.Config(app, factory=True, log_level=log_level, access_log=access_log, backlog=BACKLOG)
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """Starts ``workers`` server processes on ``host:port`` and keeps them running until stopped.

    Args:
        host: Interface to listen on.
        port: TCP port shared by the workers.
        workers: How many server processes.
        log_level: uvicorn's log level in the workers.
        app: The app factory the workers serve (``module:function``).
        access_log: Whether the workers log every request (``koe serve --access-log``).

    """

    def __init__(
        self, host: str, port: int, workers: int, log_level: str = "info", app: str = APP, *, access_log: bool = False
    ) -> None:
        self._host, self._port = host, port
        self._worker_args = (host, port, log_level, app, access_log)
        self._workers = workers
        self._context = multiprocessing.get_context("spawn")
        self._stopping = False

    def _start(self) -> tuple[BaseProcess, float]:
        process = self._context.Process(target=_worker, args=self._worker_args, name="koe-serve-worker")
        process.start()
        log.info("worker %s started", process.pid)
        return process, time.monotonic()

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; returns the exit status (0, or 1 when a worker could not start).

        Raises:
            ConfigError: when the address cannot be bound (checked before any worker starts).

        """
        listen_socket(self._host, self._port, reuse_port=False, listen=False).close()  # fail here, once, clearly
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        running = [self._start() for _ in range(self._workers)]
        status = 0
        while not self._stopping:
            time.sleep(0.2)
            for index, (process, started) in enumerate(running):
                if process.is_alive():
                    continue
                if time.monotonic() - started < STARTUP_S:
                    log.error("worker %s exited during start-up (status %s); stopping", process.pid, process.exitcode)
                    self._stopping, status = True, 1
                    break
                log.warning("worker %s exited (status %s); starting another", process.pid, process.exitcode)
                running[index] = self._start()
        for process, _ in running:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + GRACE_S
        for process, _ in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        return status
