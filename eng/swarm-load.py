"""Streams one `docker save` archive (on stdin) into several engines' `docker load` at once, each sent only the layers it
lacks. Used by eng/swarm-cluster.sh's `load`; not meant to be run by hand.

Arguments: pairs of ENGINE LAYERS-FILE. ENGINE is a Docker endpoint (unix:///run/<name>-1.sock); LAYERS-FILE lists the
archive folders (one a line) whose layer.tar that engine already loaded; after a successful load, this archive's folders
are added to it. A folder of `docker save` (format of Docker 20.10) is named after the layer's chain: for every layer but
the top one, after the chain of layers up to it and nothing else; the top one's also after the image's configuration. So
a folder sent before holds layers the engine has, unless they were removed since (an image deleted on the node); then its
load fails on the missing layer.tar and the caller copies the whole archive again.

Exit status: 0 when every engine loaded the image; else 3, with the engines that did not on stderr, one a line, after
the word `failed:`.
"""

import json
import subprocess
import sys
import tarfile

BLOCK = 512
CHUNK = 1 << 20


def main(arguments):
    targets = []
    for endpoint, layers_file in zip(arguments[0::2], arguments[1::2]):
        try:
            with open(layers_file, encoding="utf-8") as known:
                sent = {line.strip() for line in known if line.strip()}
        except FileNotFoundError:
            sent = set()
        load = subprocess.Popen(["docker", "-H", endpoint, "load", "-q"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        targets.append({"endpoint": endpoint, "layers_file": layers_file, "sent": sent, "load": load, "open": True})

    def write(target, data):
        if not target["open"]:
            return
        try:
            target["load"].stdin.write(data)
        except BrokenPipeError:
            # The load gave up (its error is on stderr): the others go on.
            target["open"] = False

    folders = []
    archive = tarfile.open(fileobj=sys.stdin.buffer, mode="r|")
    for member in archive:
        if member.name == "manifest.json":
            manifest = archive.extractfile(member).read()
            folders = [layer.split("/", 1)[0] for entry in json.loads(manifest) for layer in entry["Layers"]]
            content = [manifest]
        elif member.isfile():
            stream = archive.extractfile(member)
            content = iter(lambda: stream.read(CHUNK), b"")
        else:
            content = []
        layer = member.name.split("/", 1)[0] if member.name.endswith("/layer.tar") else None
        receivers = [target for target in targets if layer is None or layer not in target["sent"]]
        header = member.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
        for target in receivers:
            write(target, header)
        for chunk in content:
            for target in receivers:
                write(target, chunk)
        padding = -member.size % BLOCK
        if member.isfile() and padding:
            for target in receivers:
                write(target, b"\0" * padding)
    failed = []
    for target in targets:
        write(target, b"\0" * (2 * BLOCK))
        try:
            target["load"].stdin.close()
        except BrokenPipeError:
            pass
        if target["load"].wait() != 0 or not target["open"]:
            failed.append(target["endpoint"])
            continue
        with open(target["layers_file"], "a", encoding="utf-8") as known:
            known.writelines(f"{folder}\n" for folder in folders if folder not in target["sent"])
    if failed:
        print("failed:", *failed, sep="\n", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
