#!/usr/bin/python3
"""An RTSP server for tests, the benchmark and the demo: loops pre-encoded H.264 clips on many mounts.

Run with the SYSTEM python3 (it needs python3-gi and GStreamer's RTSP server, not the venv):

    /usr/bin/python3 tools/rtsp_server.py --port 8554 --clip main=hall.mp4 --clip still=still.mp4 \
        --mount cam1=main --mount cam2=main --count 0

`--count N --prefix cam --default-clip main` adds mounts cam1..camN. Each clip is read into memory
once (its H.264 access units) and every mount replays it in a loop with ever-increasing timestamps,
so a server runs for hours with constant memory and no encoding. Commands on stdin, one per line:

    drop NAME          stop sending on NAME and unmount it (clients stall, reconnects get 404)
    resume NAME        mount NAME again
    switch NAME CLIP   continue NAME with another clip (a still clip = a frozen camera; another size =
                       a resolution change mid-stream)
    quit

It prints "READY <port>" once it listens, and "OK <command>" after each command.
"""

from __future__ import annotations

import argparse
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

CAPS = "video/x-h264,stream-format=byte-stream,alignment=au"


class Clip:
    """The access units of one H.264 file, with their timestamps."""

    def __init__(self, path: str) -> None:
        self.units: list[tuple[bytes, int, int, bool]] = []  # data, pts, duration, keyframe
        pipe = Gst.parse_launch(
            f'filesrc location="{path}" ! parsebin ! h264parse config-interval=-1 ! {CAPS} '
            "! appsink name=sink sync=false emit-signals=false")
        sink = pipe.get_by_name("sink")
        pipe.set_state(Gst.State.PLAYING)
        while True:
            sample = sink.emit("pull-sample")
            if sample is None:
                break
            buf = sample.get_buffer()
            ok, info = buf.map(Gst.MapFlags.READ)
            data = bytes(info.data) if ok else b""
            buf.unmap(info)
            key = not buf.has_flags(Gst.BufferFlags.DELTA_UNIT)
            self.units.append((data, buf.pts, buf.duration, key))
        pipe.set_state(Gst.State.NULL)
        if not self.units:
            raise SystemExit(f"no H.264 in {path}")
        step = self.units[1][1] - self.units[0][1] if len(self.units) > 1 else Gst.SECOND // 25
        self.frame_ns = self.units[0][2] if self.units[0][2] != Gst.CLOCK_TIME_NONE else step
        self.length_ns = self.frame_ns * len(self.units)


class Feeder:
    """Pushes one mount's clip into an appsrc, looping, with continuous timestamps."""

    def __init__(self, mount: Mount, appsrc: Gst.Element) -> None:
        self.mount = mount
        self.appsrc = appsrc
        self.index = 0
        self.pts = 0
        self.clip = mount.clip
        appsrc.connect("need-data", self.on_need_data)

    def on_need_data(self, src: Gst.Element, _length: int) -> None:
        if self.mount.dropped:
            return  # a dropped camera: the stream stalls
        if self.mount.clip is not self.clip and (self.index == 0 or self.clip.units[self.index][3]):
            # Switch at a key frame so the decoder gets a clean start on the new clip.
            self.clip, self.index = self.mount.clip, 0
        data, _pts, _dur, key = self.clip.units[self.index]
        buf = Gst.Buffer.new_wrapped(data)
        buf.pts = self.pts
        buf.dts = self.pts
        buf.duration = self.clip.frame_ns
        if not key:
            buf.set_flags(Gst.BufferFlags.DELTA_UNIT)
        self.pts += self.clip.frame_ns
        self.index = (self.index + 1) % len(self.clip.units)
        src.emit("push-buffer", buf)


class SharedFactory(GstRtspServer.RTSPMediaFactory):
    """One media for every mount it is added at (the benchmark's many identical cameras).

    Clients still get their own RTSP session and TCP connection; only the feed and the payloader are
    shared, so the server's CPU no longer grows with every camera it stands in for.
    """

    def do_gen_key(self, url: object) -> str:
        return "shared"


class Mount:
    def __init__(self, server: Server, name: str, clip: Clip, shared: SharedFactory | None = None) -> None:
        self.server = server
        self.name = name
        self.clip = clip
        self.dropped = False
        self.factory: GstRtspServer.RTSPMediaFactory | None = None
        self.shared = shared

    def attach(self) -> None:
        if self.shared is not None:
            self.dropped = False
            self.server.mounts.add_factory(f"/{self.name}", self.shared)
            self.factory = self.shared
            return
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(f"( appsrc name=src is-live=true format=time caps={CAPS} "
                           "! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=-1 )")
        factory.set_shared(True)
        factory.connect("media-configure", self.on_configure)
        self.factory = factory
        self.dropped = False
        self.server.mounts.add_factory(f"/{self.name}", factory)

    def detach(self) -> None:
        if self.shared is not None:
            self.server.mounts.remove_factory(f"/{self.name}")  # the shared feed goes on for the others
            return
        self.dropped = True
        self.server.mounts.remove_factory(f"/{self.name}")
        self.factory = None

    def on_configure(self, _factory: GstRtspServer.RTSPMediaFactory, media: GstRtspServer.RTSPMedia) -> None:
        appsrc = media.get_element().get_child_by_name("src")
        media.feeder = Feeder(self, appsrc)  # keep a reference for the media's lifetime


class Server:
    def __init__(self, port: int, host: str) -> None:
        self.rtsp = GstRtspServer.RTSPServer()
        self.rtsp.set_address(host)
        self.rtsp.set_service(str(port))
        # Without more threads, simultaneous connects queue up about a second each.
        self.rtsp.get_thread_pool().set_max_threads(256)
        self.mounts = self.rtsp.get_mount_points()
        self.clips: dict[str, Clip] = {}
        self.by_name: dict[str, Mount] = {}

    def command(self, line: str) -> str:
        parts = line.split()
        if not parts:
            return ""
        op, args = parts[0], parts[1:]
        if op == "quit":
            loop.quit()
        elif op == "drop" and args and args[0] in self.by_name:
            self.by_name[args[0]].detach()
        elif op == "resume" and args and args[0] in self.by_name:
            self.by_name[args[0]].attach()
        elif op == "switch" and len(args) == 2 and args[0] in self.by_name and args[1] in self.clips:
            self.by_name[args[0]].clip = self.clips[args[1]]
        else:
            return f"ERR {line}"
        return f"OK {line}"


def main() -> None:
    global loop
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8554)
    ap.add_argument("--clip", action="append", default=[], help="NAME=FILE (H.264 in any container)")
    ap.add_argument("--mount", action="append", default=[], help="MOUNT=CLIP")
    ap.add_argument("--exit-on-eof", action="store_true",
                    help="quit when stdin closes (the parent died, even by kill -9, and its pipe with it)")
    ap.add_argument("--count", type=int, default=0, help="also mount PREFIX1..PREFIXN")
    ap.add_argument("--prefix", default="cam")
    ap.add_argument("--default-clip", default="")
    ap.add_argument("--shared-count", action="store_true",
                    help="the --count mounts share one feed (cheap stand-ins for many cameras); "
                    "--mount mounts stay separate (drop/switch work on those)")
    args = ap.parse_args()
    Gst.init(None)
    server = Server(args.port, args.host)
    for spec in args.clip:
        name, path = spec.split("=", 1)
        server.clips[name] = Clip(path)
    mounts = [m.split("=", 1) + [""] for m in args.mount]
    default = args.default_clip or next(iter(server.clips))
    mounts += [[f"{args.prefix}{i}", default, "count"] for i in range(1, args.count + 1)
               if f"{args.prefix}{i}" not in server.by_name and f"{args.prefix}{i}" not in dict(m[:2] for m in mounts)]
    shared: SharedFactory | None = None
    if args.shared_count:
        shared = SharedFactory()
        shared.set_launch(f"( appsrc name=src is-live=true format=time caps={CAPS} "
                          "! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=-1 )")
        shared.set_shared(True)
        shared_mount = Mount(server, "_shared", server.clips[default])
        shared.connect("media-configure", shared_mount.on_configure)
    for name, clip, kind in mounts:
        mount = Mount(server, name, server.clips[clip], shared if kind == "count" else None)
        server.by_name[name] = mount
        mount.attach()
    loop = GLib.MainLoop()
    if server.rtsp.attach(None) == 0:
        raise SystemExit(f"cannot listen on {args.host}:{args.port}")
    print(f"READY {server.rtsp.get_bound_port()}", flush=True)

    def read_commands() -> None:
        for line in sys.stdin:
            done = threading.Event()
            result: list[str] = []

            def run(text: str = line.strip()) -> bool:
                result.append(server.command(text))
                done.set()
                return False

            GLib.idle_add(run)
            done.wait(10)
            print(result[0] if result else f"ERR {line.strip()}", flush=True)
        # stdin closed (or /dev/null): keep serving, the parent stops us by PID; unless told to follow it.
        if args.exit_on_eof:
            GLib.idle_add(loop.quit)

    threading.Thread(target=read_commands, daemon=True).start()
    loop.run()


loop: GLib.MainLoop

if __name__ == "__main__":
    main()
