"""The native ingest engine: cameras/rtsp.py for every camera of a process on ONE asyncio loop.

`NativeCameraReader` has the interface of `CameraReader` (start/stop/is_alive/join, `state`, `camera_id`), so
`IngestService` runs it unchanged. Instead of a thread per camera blocked in FFmpeg, one loop thread
("rtsp-loop") wakes every POLL_SECONDS, drains every camera's socket in 64–256 KiB reads and parses the
packets; key access units go to two decoding threads ("rtsp-decode", PyAV releases the GIL while decoding).
Both threads exist while at least one native reader runs and end with the last one.

Why one loop and timed drains (bench/cameras/RESULTS.md, "Native RTSP engine"): a reader woken by every
arrival (a thread per camera with blocking reads, or an asyncio protocol) wakes ~25–100 times a second per
camera; one ticker draining every camera's socket on a 100 ms grid wakes the process 10 times a second
whatever the number of cameras, and the kernel's socket buffer holds the 100 ms between. The loop never
blocks: connects and the handshake are awaited under the open timeout, reads are non-blocking.

A camera the native client cannot read (not H.264, or RTP over TCP refused) falls back to the FFmpeg reader in
a thread of its own ("camera-<id>"), transparently for the service.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import av
from av.codec.context import Flags

from cameras.clipbuffer import RtpClock
from cameras.config import CameraSettings
from cameras.ingest import CameraReader, FrameRegistry, StreamGarbageError, backoff_delay, luma_thumbnail
from cameras.rtsp import RtspClient, RtspError, RtspUnsupportedError

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.1
"""How often the loop drains the sockets; the kernel buffers what arrives between (SO_RCVBUF 1 MiB)."""
MODE = "loop"
"""'loop' (the engine) or 'threads' (a thread per camera with blocking reads: kept for the benchmark only)."""
MAX_BAD_UNITS = 10
"""Access units in a row that do not decode before reconnecting."""
MAX_QUEUE = 50
"""Access units waiting for the decoder of one camera in full-decode mode before dropping to the next IDR."""
HEALTHY_RESET_SECONDS = 30.0
DECODE_THREADS = 2
"""Decoding threads per process (one camera's access units are never decoded by two at once). Two, so a burst
of key frames (cameras that started together) uses both cores and the ingest keeps its share of the CPU when
other processes compete: with one, 720p key frames waited over a second on a busy machine and were skipped."""


class _Hub:
    """The loop thread and the decoding thread of this process; alive while native readers run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._users = 0
        # Streaming cameras of this loop (loop thread only): one ticker drains them all every POLL_SECONDS.
        self.streams: dict[NativeCameraReader, _Stream] = {}
        self._rotation = 0

    def acquire(self) -> tuple[asyncio.AbstractEventLoop, concurrent.futures.ThreadPoolExecutor]:
        with self._lock:
            if self._loop is None or self._executor is None:
                loop = asyncio.new_event_loop()
                executor = concurrent.futures.ThreadPoolExecutor(DECODE_THREADS, thread_name_prefix="rtsp-decode")
                ready = threading.Event()
                thread = threading.Thread(target=self._run, args=(loop, executor, ready), name="rtsp-loop",
                                          daemon=True)
                thread.start()
                ready.wait(5)
                self._loop, self._executor = loop, executor
            self._users += 1
            return self._loop, self._executor

    def release(self) -> None:
        """Called on the loop thread when a reader ends; the last one stops the loop."""
        with self._lock:
            self._users -= 1
            if self._users > 0 or self._loop is None:
                return
            loop, self._loop, self._executor = self._loop, None, None
        loop.call_soon(loop.stop)

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, executor: concurrent.futures.ThreadPoolExecutor,
             ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        ticker = loop.create_task(HUB._tick())
        try:
            loop.run_forever()
            ticker.cancel()
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            loop.close()
            executor.shutdown(wait=True)

    async def _tick(self) -> None:
        """Every POLL_SECONDS, on the wall-clock grid: drain and check every streaming camera of this loop.

        One wake-up per tick for all cameras: a coroutine per camera sleeping on its own costed ~45 µs per
        camera and tick (a timer, a future, a task step), more than reading and parsing the data.
        """
        while True:
            await asyncio.sleep(POLL_SECONDS - time.monotonic() % POLL_SECONDS)
            now = time.monotonic()
            items = list(self.streams.items())
            if len(items) > 1:
                # A different camera first every tick: key frames that arrive together queue for the decoder
                # in drain order, and a fixed order made the same cameras wait longest every second.
                first = self._rotation % len(items)
                self._rotation += 1
                items = items[first:] + items[:first]
            for reader, stream in items:
                try:
                    reader._step(stream, now)
                except Exception as exc:  # this camera reconnects; the others go on
                    self.streams.pop(reader, None)
                    if not stream.done.done():
                        stream.done.set_exception(exc)


HUB = _Hub()


class NativeCameraReader(CameraReader):
    """CameraReader's interface on the native RTSP client; not a running thread (the loop runs it)."""

    def __init__(self, camera_id: int, uri: str, settings: CameraSettings, registry: FrameRegistry, *,
                 start_delay: float = 0.0, lease_valid: Callable[[], bool] = lambda: True,
                 decode_all: bool | None = None) -> None:
        super().__init__(camera_id, uri, settings, registry, start_delay=start_delay, lease_valid=lease_valid,
                         decode_all=decode_all)
        self._done = threading.Event()
        self._done.set()  # not running until start()
        self._started_native = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None
        self._cancellable = True
        self._fallback: threading.Thread | None = None
        self._client: RtspClient | None = None
        self._now = time.monotonic()
        # decoding (the decode thread) — guarded by _qlock
        self._qlock = threading.Lock()
        self._queue: deque[tuple[bytes, bool, float, int]] = deque()
        self._inflight = False
        self._need_key = False
        self._generation = 0
        self._codec: Any = None
        self._codec_generation = -1
        self._last_live = 0.0
        self._analysed_at: deque[float] = deque()  # appended by the decode thread, moved into stats by the loop
        self._decode_failed = False
        self.skipped_keys = 0
        self._rtp_clock = RtpClock()

    def __repr__(self) -> str:
        return f"NativeCameraReader({self.camera_id})"

    # --- the Thread-like interface the service uses -------------------------------------------------------

    def start(self) -> None:
        if self._started_native:
            raise RuntimeError("reader already started")
        self._started_native = True
        self._done.clear()
        self._loop, self._executor = HUB.acquire()
        asyncio.run_coroutine_threadsafe(self._main(), self._loop)

    def stop(self) -> None:
        super().stop()
        loop = self._loop
        if loop is not None and not self._done.is_set():
            with contextlib.suppress(RuntimeError):  # the loop already closed: the reader had ended
                loop.call_soon_threadsafe(self._cancel)

    def _cancel(self) -> None:
        if self._task is not None and self._cancellable:
            self._task.cancel()

    def is_alive(self) -> bool:
        fallback = self._fallback
        if fallback is not None:
            return fallback.is_alive()
        return self._started_native and not self._done.is_set()

    def join(self, timeout: float | None = None) -> None:
        ends = None if timeout is None else time.monotonic() + timeout
        self._done.wait(timeout)
        fallback = self._fallback
        if fallback is not None:
            fallback.join(None if ends is None else max(0.0, ends - time.monotonic()))

    # --- the reader on the loop -------------------------------------------------------------------------

    async def _main(self) -> None:
        self._task = asyncio.current_task()
        handed_over = False
        try:
            if self.start_delay > 0:
                await asyncio.sleep(self.start_delay)
            attempt = 0
            while not self.stopping:
                healthy_from = time.monotonic()
                try:
                    await self._read_once_native()
                except RtspUnsupportedError as exc:
                    logger.info("camera %s: %s; reading it with FFmpeg", self.camera_id, exc)
                    self._close_native()
                    self._fallback = threading.Thread(target=CameraReader.run, args=(self,),
                                                      name=f"camera-{self.camera_id}", daemon=True)
                    self._fallback.start()
                    handed_over = True
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # one camera's failure never reaches the others or the loop
                    self.state.last_error = describe(exc)
                    logger.info("camera %s stream error: %s (%s)", self.camera_id, self.state.last_error, exc)
                finally:
                    self._close_native()
                if self.stopping:
                    break
                attempt = 0 if time.monotonic() - healthy_from > HEALTHY_RESET_SECONDS else attempt + 1
                self.state.reconnects += 1
                await asyncio.sleep(backoff_delay(attempt, self.settings.backoff_min_seconds,
                                                  self.settings.backoff_max_seconds, self._rng))
        except asyncio.CancelledError:
            pass  # stop(): fall through to the clean-up
        finally:
            self._close_native()
            if not handed_over:
                self.registry.forget(self.camera_id)
            self._done.set()
            HUB.release()
            logger.debug("camera %s native reader ended", self.camera_id)

    def _close_native(self) -> None:
        with self._qlock:
            self._generation += 1  # what the decoder still holds for this session is dropped
            self._queue.clear()
        client, self._client = self._client, None
        if client is not None:
            client.close()
            rx = client.receiver
            if rx is not None:
                logger.info("camera %s session ended: %d access units (%d key), %d lost packets, %d garbage bytes, "
                            "%d decoded, %d key units not decoded in time", self.camera_id, rx.units,
                            rx.key_units, rx.lost_packets, rx.garbage_bytes, self.state.decoded, self.skipped_keys)
        self.state.opened = False

    async def _read_once_native(self) -> None:
        s = self.settings
        client = RtspClient(self._uri)
        self._client = client
        with self._qlock:
            self._generation += 1
            self._queue.clear()
            self._need_key = False
        if self.clip_buffer is not None:
            self.clip_buffer.reset()  # a new session's timestamps cannot be joined to the last one's
            self._rtp_clock = RtpClock()
        async with asyncio.timeout(s.open_timeout_seconds):
            session = await client.open(self._on_unit)
        self.state.codec = "h264"
        self.state.opened = True
        self.state.last_error = ""
        self.state.bad_packets = 0
        self._decode_failed = False
        receiver = client.receiver
        assert receiver is not None
        keepalive_every = max(2.0, min(30.0, session.timeout / 2))
        clock = _Clock(time.monotonic(), time.monotonic() + keepalive_every, receiver.units)
        if MODE == "threads":
            await self._stream_in_thread(client, clock, keepalive_every)
            return
        stream = _Stream(client, clock, keepalive_every, asyncio.get_running_loop().create_future())
        HUB.streams[self] = stream
        try:
            await stream.done  # the ticker drains the socket; it ends this with the reason to reconnect
        finally:
            HUB.streams.pop(self, None)

    def _step(self, stream: _Stream, now: float) -> None:
        """One tick of a streaming camera, on the loop thread: read what arrived, bookkeeping, keep-alive."""
        if self.stopping:
            HUB.streams.pop(self, None)
            if not stream.done.done():
                stream.done.set_result(None)
            return
        client = stream.client
        receiver = client.receiver
        assert receiver is not None
        self._now = now
        # Every access unit is assembled while a clip buffer keeps them (not decoded: see _on_unit).
        receiver.collect_all = (self.decode_all or self.registry.watched(self.camera_id)
                                or self.clip_buffer is not None)
        client.drain()
        self._after_read(client, stream.clock, now, stream.keepalive_every)

    def _after_read(self, client: RtspClient, clock: _Clock, now: float, keepalive_every: float) -> None:
        """Health bookkeeping after a read; raises to reconnect."""
        receiver = client.receiver
        assert receiver is not None
        analysed = self._analysed_at
        while analysed:
            self.state.stats.on_analysed(analysed.popleft())
        if receiver.units != clock.units:  # only whole access units prove the stream alive, not bytes
            clock.units = receiver.units
            clock.last_unit = now
        elif now - clock.last_unit > self.settings.read_timeout_seconds:
            raise TimeoutError("no access unit within the read timeout")
        if self._decode_failed:
            raise StreamGarbageError("key frames do not decode")
        if client.keepalive_failed:
            raise RtspError("the camera ended the session")
        if now >= clock.next_keepalive:
            client.send_keepalive()
            clock.next_keepalive = now + keepalive_every

    async def _stream_in_thread(self, client: RtspClient, clock: _Clock, keepalive_every: float) -> None:
        """MODE 'threads': a thread per camera blocked in recv (the design the loop is measured against)."""
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[BaseException | None] = loop.create_future()
        sock = client.sock
        assert sock is not None
        sock.settimeout(0.5)

        def body() -> None:
            error: BaseException | None = None
            try:
                while not self.stopping:
                    receiver = client.receiver
                    assert receiver is not None
                    receiver.collect_all = (self.decode_all or self.registry.watched(self.camera_id)
                                            or self.clip_buffer is not None)
                    with contextlib.suppress(TimeoutError):
                        client.receive_once()
                    self._now = now = time.monotonic()
                    self._after_read(client, clock, now, keepalive_every)
            except BaseException as exc:
                error = exc
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(finished.set_result, error)

        self._cancellable = False
        thread = threading.Thread(target=body, name=f"rtsp-rx-{self.camera_id}", daemon=True)
        thread.start()
        try:
            error = await finished
        finally:
            self._cancellable = True
        thread.join(1)
        if error is not None:
            raise error

    # --- access units -> decoder ------------------------------------------------------------------------

    def _on_unit(self, size: int, key: bool, data: bytes | None) -> None:
        self.state.stats.on_packet(self._now, size, key)
        clip_buffer = self.clip_buffer
        if clip_buffer is not None:
            client = self._client
            receiver = client.receiver if client is not None else None
            ts = receiver._au_ts if receiver is not None else None  # the unit's RTP timestamp (still current)
            if ts is not None:
                clip_buffer.push(data, key, self._rtp_clock.seconds(ts))
            if data is not None and not key and not (self.decode_all or self.registry.watched(self.camera_id)):
                return  # assembled for the buffer only: key frames alone are decoded
        if data is None:
            return
        with self._qlock:
            if key:
                self._need_key = False
                if not self.decode_all and not self.registry.watched(self.camera_id) and self._queue:
                    self.skipped_keys += len(self._queue)
                    self._queue.clear()  # key frames only: the newest replaces one still waiting
            elif self._need_key:
                return
            if len(self._queue) >= MAX_QUEUE:
                self._queue.clear()
                self._need_key = not key
                if not key:
                    return
            self._queue.append((data, key, self._now, self._generation))
            if self._inflight:
                return
            self._inflight = True
        executor = self._executor
        assert executor is not None
        try:
            executor.submit(self._decode_pending)
        except RuntimeError:  # shutting down
            with self._qlock:
                self._inflight = False

    def _decode_pending(self) -> None:
        """On the decoding thread: decode what this camera queued, in order."""
        while True:
            with self._qlock:
                if not self._queue:
                    self._inflight = False
                    return
                data, key, at, generation = self._queue.popleft()
            try:
                self._decode(data, key, at, generation)
            except Exception:
                logger.exception("camera %s: decoding failed", self.camera_id)

    def _decode(self, data: bytes, key: bool, at: float, generation: int) -> None:
        if generation != self._generation or self.stopping:
            return  # queued before a reconnect or a stop: nothing of it may reach the registry
        if self._codec is None or self._codec_generation != generation:
            ctx = av.CodecContext.create("h264", "r")
            ctx.thread_count = 1
            ctx.thread_type = "NONE"
            ctx.flags |= Flags.low_delay  # one frame out per access unit in: we never feed the next one soon
            self._codec, self._codec_generation = ctx, generation
        try:
            frames = self._codec.decode(av.Packet(data))
        except av.error.FFmpegError:
            self.state.bad_packets += 1
            if self.state.bad_packets >= MAX_BAD_UNITS:
                self._decode_failed = True
            return
        self.state.bad_packets = 0
        live_every = 1.0 / max(0.5, self.settings.live_fps)
        for frame in frames:
            if generation != self._generation:
                return
            self.state.decoded += 1
            self.state.width, self.state.height = int(frame.width), int(frame.height)
            if key or self.decode_all:
                self.state.freeze.update(luma_thumbnail(frame), at)
                self._analysed_at.append(at)
                self.analyse_zones(frame, at)
            if key or at - self._last_live >= live_every or not self.registry.watched(self.camera_id):
                self.registry.publish(self.camera_id, frame)
                self._last_live = at


class _Stream:
    __slots__ = ("client", "clock", "done", "keepalive_every")

    def __init__(self, client: RtspClient, clock: _Clock, keepalive_every: float,
                 done: asyncio.Future[None]) -> None:
        self.client = client
        self.clock = clock
        self.keepalive_every = keepalive_every
        self.done = done


class _Clock:
    __slots__ = ("last_unit", "next_keepalive", "units")

    def __init__(self, last_unit: float, next_keepalive: float, units: int) -> None:
        self.last_unit = last_unit
        self.next_keepalive = next_keepalive
        self.units = units


def describe(exc: BaseException) -> str:
    """The operator's message key for why a stream failed (cameras/messages.py)."""
    if isinstance(exc, RtspError):
        return exc.code
    if isinstance(exc, StreamGarbageError):
        return "camera.stream.bad_data"
    if isinstance(exc, TimeoutError):
        return "camera.stream.no_packets"
    return "camera.stream.open_failed"


def reader_class(settings: CameraSettings, uri: str) -> type[CameraReader]:
    """The reader for a camera: native for rtsp:// when `ingest_engine` is "native", else FFmpeg's."""
    engine = str(getattr(settings, "ingest_engine", "ffmpeg"))
    if engine == "native" and uri.lower().startswith("rtsp://") and settings.rtsp_transport == "tcp":
        return NativeCameraReader
    return CameraReader
