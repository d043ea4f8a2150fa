#!/usr/bin/env python3
"""Simulate the kubelet's atomic writer for ConfigMap/Secret volumes.

This is a standard-library-only re-implementation of the behaviour of
Kubernetes ``pkg/volume/util/atomic_writer.go`` (``AtomicWriter.Write``), as
found in current upstream (the 12-step version with ``setPerms`` and the
kubernetes/kubernetes#121472 fix).  It is used by the profiled tests to produce
exactly the on-disk sequence of operations a real kubelet performs when it
projects a ConfigMap into a volume directory:

    TARGET/..2024_05_01_12_00_00.123456789/KEY   (real files)
    TARGET/..data -> ..2024_05_01_12_00_00.123456789
    TARGET/KEY    -> ..data/KEY

Usage:
    kubelet_writer.py TARGET_DIR SRC_DIR   [--mode 0644] [--delay-ms N]
    kubelet_writer.py TARGET_DIR --empty   [--mode 0644] [--delay-ms N]

The payload is every regular file directly inside SRC_DIR (key = file name,
value = file content); ``--empty`` writes a payload with no keys.  TARGET_DIR
is created if missing (in a real pod the kubelet creates it before calling the
writer).  ``--delay-ms N`` sleeps N milliseconds after every step that changes
the file system, so tests can observe intermediate states.

Exit status 0 and no output on success (including "nothing to do"); a message
on stderr and exit status 1 on any error.

Upstream steps mirrored, in upstream order (numbers match the comments in
AtomicWriter.Write):
   1. validatePayload / validatePath
   2. os.Readlink(TARGET/..data)               -> old timestamped dir name
   3. pathsToRemove (walk old ts dir)          [only if ..data existed]
   4. shouldWritePayload / shouldWriteFile     [only if ..data existed]
      - nothing changed and nothing to remove: skip 5-9 and 12, but still do
        10 and 11 (upstream #121472: re-create missing user-visible symlinks)
   5. newTimestampDir (MkdirTemp "..2006_01_02_15_04_05.<rand>", chmod 0755)
   6. writePayloadToDir (WriteFile + Chmod per key)
   7. setPerms callback                        [not simulated: no fsGroup]
   8. os.Symlink(tsDirName, TARGET/..data_tmp)
   9. os.Rename(TARGET/..data_tmp, TARGET/..data)   (the atomic switch)
  10. createUserVisibleFiles (KEY -> ..data/KEY for missing top-level links)
  11. removeUserVisiblePaths (top-level entries no longer in the payload)
  12. os.RemoveAll(old ts dir)
"""

import errno
import os
import random
import stat
import sys
import time

DATA_DIR_NAME = "..data"
NEW_DATA_DIR_NAME = "..data_tmp"
MAX_FILE_NAME_LENGTH = 255
MAX_PATH_LENGTH = 4096
DEFAULT_MODE = 0o644  # ConfigMapVolumeSourceDefaultMode

PROG = "kubelet_writer"


class WriterError(Exception):
    pass


# --------------------------------------------------------------------------
# Small helpers reproducing Go standard-library semantics where they matter.
# --------------------------------------------------------------------------

def go_join(*parts):
    """filepath.Join: concatenate non-empty parts with '/', then Clean.

    Unlike os.path.join, an absolute later element does not discard the
    earlier ones.
    """
    joined = "/".join(p for p in parts if p != "")
    if joined == "":
        return ""
    return go_clean(joined)


def go_clean(p):
    """filepath.Clean (close enough: normpath plus Go's '//' handling)."""
    if p == "":
        return "."
    cleaned = os.path.normpath(p)
    # POSIX normpath keeps a leading '//' ; Go collapses it.
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def go_remove(path):
    """os.Remove: unlink, falling back to rmdir; Go's choice of error."""
    try:
        os.unlink(path)
        return
    except OSError as e:
        unlink_err = e
    try:
        os.rmdir(path)
        return
    except OSError as e:
        rmdir_err = e
    if rmdir_err.errno != errno.ENOTDIR:
        raise rmdir_err
    raise unlink_err


def go_remove_all(path):
    """os.RemoveAll: remove path and children; missing path is not an error.

    A symlink (or any non-directory) is removed itself, never followed.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            try:
                os.unlink(os.path.join(root, name))
            except FileNotFoundError:
                pass
        for name in dirs:
            full = os.path.join(root, name)
            try:
                if os.path.islink(full):
                    os.unlink(full)
                else:
                    os.rmdir(full)
            except FileNotFoundError:
                pass
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass


def go_walk_paths(root):
    """filepath.Walk(root) with a visitor that ignores errors.

    Returns every path under root (excluding root itself) relative to root.
    Like Go's Walk, symlinks are not followed (including a symlinked root)
    and unreadable entries are silently skipped.
    """
    result = []
    try:
        st = os.lstat(root)
    except OSError:
        return result  # visitor swallowed the Lstat error -> Walk returns nil
    if not stat.S_ISDIR(st.st_mode):
        return result

    def walk(rel_dir):
        full_dir = os.path.join(root, rel_dir) if rel_dir else root
        try:
            names = sorted(os.listdir(full_dir))
        except OSError:
            return
        for name in names:
            rel = os.path.join(rel_dir, name) if rel_dir else name
            result.append(rel)
            try:
                child = os.lstat(os.path.join(full_dir, name))
            except OSError:
                continue
            if stat.S_ISDIR(child.st_mode):
                walk(rel)

    walk("")
    return result


def go_mkdir_temp(directory, prefix):
    """os.MkdirTemp(dir, prefix): prefix + decimal random uint32, mode 0700."""
    last = None
    for _ in range(10000):
        name = os.path.join(directory, prefix + str(random.getrandbits(32)))
        try:
            os.mkdir(name, 0o700)
            return name
        except FileExistsError as e:
            last = e
            continue
    raise WriterError("mkdirtemp %s: too many collisions (%s)" % (directory, last))


# --------------------------------------------------------------------------
# The writer.
# --------------------------------------------------------------------------

class AtomicWriter:
    def __init__(self, target_dir, delay_ms=0):
        self.target_dir = target_dir
        self.delay = max(0, delay_ms) / 1000.0

    def _pause(self):
        if self.delay > 0:
            time.sleep(self.delay)

    # ---- step 1 ----------------------------------------------------------
    @staticmethod
    def validate_path(target_path):
        if target_path == "":
            raise WriterError('invalid path: must not be empty: ""')
        if target_path.startswith("/"):
            raise WriterError("invalid path: must be relative path: %s" % target_path)
        if len(target_path.encode()) > MAX_PATH_LENGTH:
            raise WriterError("invalid path: must be less than or equal to %d characters"
                              % MAX_PATH_LENGTH)
        items = target_path.split("/")
        for item in items:
            if item == "..":
                raise WriterError("invalid path: must not contain '..': %s" % target_path)
            if len(item.encode()) > MAX_FILE_NAME_LENGTH:
                raise WriterError("invalid path: filenames must be less than or equal to %d characters"
                                  % MAX_FILE_NAME_LENGTH)
        if items[0].startswith("..") and len(items[0]) > 2:
            raise WriterError("invalid path: must not start with '..': %s" % target_path)

    def validate_payload(self, payload):
        clean = {}
        for key, proj in payload.items():
            self.validate_path(key)
            clean[go_clean(key)] = proj
        return clean

    # ---- step 3 ----------------------------------------------------------
    @staticmethod
    def paths_to_remove(payload, old_ts_path):
        current = set(go_walk_paths(old_ts_path))
        new_paths = set()
        for key in payload:
            sub = key
            while sub != "":
                new_paths.add(sub)
                sub = os.path.dirname(sub)
        return current - new_paths

    # ---- step 4 ----------------------------------------------------------
    @staticmethod
    def should_write_file(path, content):
        try:
            os.lstat(path)
        except FileNotFoundError:
            return True
        except OSError:
            pass  # Go only special-cases IsNotExist; ReadFile reports the rest
        try:
            with open(path, "rb") as f:
                on_fs = f.read()
        except OSError as e:
            raise WriterError("read %s: %s" % (path, e.strerror or e))
        return on_fs != content

    def should_write_payload(self, payload, old_ts_path):
        for key in sorted(payload):
            if self.should_write_file(go_join(old_ts_path, key), payload[key][0]):
                return True
        return False

    # ---- step 5 ----------------------------------------------------------
    def new_timestamp_dir(self):
        prefix = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime())
        ts_dir = go_mkdir_temp(self.target_dir, prefix)
        # 0755 regardless of umask so group/other can traverse it
        os.chmod(ts_dir, 0o755)
        return ts_dir

    # ---- step 6 ----------------------------------------------------------
    @staticmethod
    def write_payload_to_dir(payload, directory):
        for key in sorted(payload):
            content, mode = payload[key]
            full = go_join(directory, key)
            base = os.path.dirname(full)
            os.makedirs(base, 0o777, exist_ok=True)
            fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
            try:
                view = memoryview(content)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
            finally:
                os.close(fd)
            # open(2) applied the umask; force the requested mode
            os.chmod(full, mode)

    # ---- step 10 ---------------------------------------------------------
    def create_user_visible_files(self, payload):
        for key in sorted(payload):
            link_name = key.split("/", 1)[0]
            visible = go_join(self.target_dir, link_name)
            try:
                os.readlink(visible)
            except FileNotFoundError:
                os.symlink(go_join(DATA_DIR_NAME, link_name), visible)
            except OSError:
                # exists but is not a symlink (EINVAL) etc.: upstream leaves it
                pass

    # ---- step 11 ---------------------------------------------------------
    def remove_user_visible_paths(self, paths):
        last_err = None
        for p in sorted(paths):
            if "/" in p:  # only top-level entries are user-visible links
                continue
            try:
                go_remove(go_join(self.target_dir, p))
            except OSError as e:
                sys.stderr.write("%s: error pruning old user-visible path %s: %s\n"
                                 % (PROG, p, e.strerror or e))
                last_err = e
        if last_err is not None:
            raise WriterError("error removing old visible symlinks: %s"
                              % (last_err.strerror or last_err))

    # ---- Write -----------------------------------------------------------
    def write(self, payload):
        # (1) validate the payload, cleaning the paths
        clean = self.validate_payload(payload)

        # (2) current timestamped dir = target of ..data (may not exist)
        data_dir_path = go_join(self.target_dir, DATA_DIR_NAME)
        try:
            old_ts_dir = os.readlink(data_dir_path)
        except FileNotFoundError:
            old_ts_dir = ""
        except OSError as e:
            raise WriterError("error reading link for data directory: %s"
                              % (e.strerror or e))
        old_ts_path = go_join(self.target_dir, old_ts_dir)

        to_remove = set()
        should_write = True
        if old_ts_dir != "":
            # (3) which old paths are no longer part of the payload
            to_remove = self.paths_to_remove(clean, old_ts_path)

            # (4) does any file content differ (or is any file new)?
            should = self.should_write_payload(clean, old_ts_path)
            if not should and not to_remove:
                # data dir already up to date; still make sure the
                # user-visible symlinks exist (kubernetes#121472) and do not
                # remove the (current) data directory.
                should_write = False
                old_ts_dir = ""

        if should_write:
            # (5) new timestamped directory
            ts_dir = self.new_timestamp_dir()
            ts_dir_name = os.path.basename(ts_dir)
            self._pause()

            # (6) payload into the new timestamped directory
            try:
                self.write_payload_to_dir(clean, ts_dir)
            except OSError as e:
                # upstream leaves the half-written ts dir behind here
                raise WriterError("error writing payload to ts data directory %s: %s"
                                  % (ts_dir, e.strerror or e))
            self._pause()

            # (7) setPerms: nil for a ConfigMap volume without fsGroup

            # (8) ..data_tmp -> <ts dir name>
            new_data_dir_path = go_join(self.target_dir, NEW_DATA_DIR_NAME)
            try:
                os.symlink(ts_dir_name, new_data_dir_path)
            except OSError as e:
                go_remove_all(ts_dir)
                raise WriterError("error creating symbolic link for atomic update: %s"
                                  % (e.strerror or e))
            self._pause()

            # (9) atomic switch: rename ..data_tmp over ..data
            try:
                os.rename(new_data_dir_path, data_dir_path)
            except OSError as e:
                try:
                    os.unlink(new_data_dir_path)
                except OSError:
                    pass
                go_remove_all(ts_dir)
                raise WriterError("error renaming symbolic link for data directory %s: %s"
                                  % (new_data_dir_path, e.strerror or e))
            self._pause()

        # (10) KEY -> ..data/KEY for top-level keys lacking a link
        try:
            self.create_user_visible_files(clean)
        except OSError as e:
            raise WriterError("error creating visible symlinks in %s: %s"
                              % (self.target_dir, e.strerror or e))
        if should_write:
            self._pause()

        # (11) drop user-visible entries that left the payload
        self.remove_user_visible_paths(to_remove)
        if to_remove:
            self._pause()

        # (12) remove the previous timestamped directory
        if old_ts_dir != "":
            try:
                go_remove_all(old_ts_path)
            except OSError as e:
                raise WriterError("error removing old data directory %s: %s"
                                  % (old_ts_dir, e.strerror or e))


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

USAGE = ("usage: kubelet_writer.py TARGET_DIR (SRC_DIR | --empty) "
         "[--mode 0644] [--delay-ms N]")


def parse_args(argv):
    positional = []
    empty = False
    mode = DEFAULT_MODE
    delay_ms = 0
    i = 0
    while i < len(argv):
        arg = argv[i]

        def value(name):
            nonlocal i
            if arg.startswith(name + "="):
                return arg[len(name) + 1:]
            if i + 1 >= len(argv):
                raise WriterError("%s needs a value\n%s" % (name, USAGE))
            i += 1
            return argv[i]

        if arg == "--empty":
            empty = True
        elif arg == "--mode" or arg.startswith("--mode="):
            raw = value("--mode")
            try:
                mode = int(raw, 8)
            except ValueError:
                raise WriterError("invalid --mode %r (octal expected)" % raw)
            if not 0 <= mode <= 0o777:
                raise WriterError("invalid --mode %r (must be 0000..0777)" % raw)
        elif arg == "--delay-ms" or arg.startswith("--delay-ms="):
            raw = value("--delay-ms")
            try:
                delay_ms = int(raw, 10)
            except ValueError:
                raise WriterError("invalid --delay-ms %r" % raw)
            if delay_ms < 0:
                raise WriterError("invalid --delay-ms %r" % raw)
        elif arg in ("-h", "--help"):
            raise WriterError(USAGE)
        elif arg == "--":
            positional.extend(argv[i + 1:])
            break
        elif arg.startswith("--"):
            raise WriterError("unknown option %s\n%s" % (arg, USAGE))
        else:
            positional.append(arg)
        i += 1

    if empty:
        if len(positional) != 1:
            raise WriterError(USAGE)
        return positional[0], None, mode, delay_ms
    if len(positional) != 2:
        raise WriterError(USAGE)
    return positional[0], positional[1], mode, delay_ms


def load_payload(src_dir, mode):
    """Every regular file directly in src_dir (symlinks to files followed)."""
    payload = {}
    try:
        entries = sorted(os.listdir(src_dir))
    except OSError as e:
        raise WriterError("cannot read source dir %s: %s" % (src_dir, e.strerror or e))
    for name in entries:
        path = os.path.join(src_dir, name)
        try:
            st = os.stat(path)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        try:
            with open(path, "rb") as f:
                payload[name] = (f.read(), mode)
        except OSError as e:
            raise WriterError("cannot read %s: %s" % (path, e.strerror or e))
    return payload


def main(argv):
    try:
        target, src, mode, delay_ms = parse_args(argv)
        payload = {} if src is None else load_payload(src, mode)
        try:
            os.makedirs(target, exist_ok=True)
        except OSError as e:
            raise WriterError("cannot create target dir %s: %s" % (target, e.strerror or e))
        AtomicWriter(target, delay_ms).write(payload)
    except WriterError as e:
        sys.stderr.write("%s: %s\n" % (PROG, e))
        return 1
    except OSError as e:
        sys.stderr.write("%s: %s\n" % (PROG, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
