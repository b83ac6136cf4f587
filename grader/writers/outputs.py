"""The output folder (`--out`) as one set of files that switches as a whole.

A run never writes into the files a teacher sees while it works. It locks the folder (a second run
into it stops with a clear line), writes every output into a private staging folder inside it, and
only when all of them are written moves them into place: a handful of renames, recorded first in
a journal so that a run killed in the middle of them is completed by the next one. The outputs a
run wrote are listed in `.grader-output` (the manifest, which also tells the reader that this
folder holds a grader's outputs, never answers). A file the grader did not write is never replaced
or deleted: an --out that would is refused before anything is read. A grader file the teacher
edited since (its size or time changed) is kept aside under a new name, and the run says so.

    with OutputFolder(out, inputs) as folder:     # lock, finish an interrupted switch, check
        ...read and grade...
        written = folder.write(lambda staging: write_outputs(results, rubric, staging))
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Iterable

from ..inputs.files import OUTPUT_MANIFEST
from .files import OutputError, atomic_writer, prepare_out_dir

MANIFEST = OUTPUT_MANIFEST   # ".grader-output": the readers never take a folder holding it as answers
LOCK = ".grader-lock"
STAGING = ".grader-staging"
JOURNAL = ".grader-switch"
TARGETS = ("grades.csv", "grades.json", "gradebook.csv", "report.html", "feedback")
"""Everything a run may put in the folder besides its own hidden files."""


class OutputFolder:
    def __init__(self, out: str | Path, inputs: Iterable[str | Path] = (), say: Callable[[str], None] | None = None):
        self.out = Path(out)
        self.inputs = [Path(i) for i in inputs]
        self.say = say or (lambda line: None)
        self._lock = None
        self._committed = False

    @property
    def staging(self) -> Path:
        return self.out / STAGING

    # -- entering: lock, recover, check ------------------------------------------------------------
    def __enter__(self) -> OutputFolder:
        out = prepare_out_dir(self.out)
        self._check_inputs(out)
        self._lock = _lock(out)
        try:
            if (out / JOURNAL).exists():   # a run was killed while switching: finish its switch
                self._switch(json.loads((out / JOURNAL).read_text(encoding="utf-8")))
            shutil.rmtree(self.staging, ignore_errors=True)   # a run killed while writing
            for stale in out.glob(f".{MANIFEST}.*.tmp"), out.glob(f".{JOURNAL}.*.tmp"):
                for path in stale:   # a run killed while writing its manifest or journal
                    path.unlink(missing_ok=True)
            self.previous = _read_manifest(out)
            for name in TARGETS:
                self._check_target(name)
            self.staging.mkdir()
        except BaseException:
            self._unlock()
            raise
        return self

    def _check_inputs(self, out: Path) -> None:
        """Refuse an --out whose outputs would replace, delete or be read as an input."""
        out = out.resolve()
        for given in self.inputs:
            path = given.resolve()
            if path == out:
                raise OutputError(f"{self.out}: --out is the input folder {given} itself; the outputs would mix with "
                                  "the answers. Choose another --out, e.g. a folder beside it")
            for name in (*TARGETS, MANIFEST, STAGING, JOURNAL):
                target = out / name
                if path == target or target in path.parents:
                    raise OutputError(f"{self.out}: --out would write {target.name} over the input {given}; "
                                      "choose another --out")

    def _check_target(self, relative: str) -> None:
        target = self.out / relative
        if not (target.exists() or target.is_symlink()):
            return
        if relative not in self.previous and not (target.is_dir() and not target.is_symlink()
                                                  and any(k.startswith(relative + "/") for k in self.previous)):
            raise OutputError(f"{target}: exists and was not written by grader (it is not listed in "
                              f"{self.out / MANIFEST}); move it away or choose another --out")

    # -- writing -------------------------------------------------------------------------------------
    def write(self, write_into: Callable[[Path], list[Path]]) -> list[Path]:
        """write_into(staging) writes every output into the staging folder and returns the paths;
        then they switch into place. A failure to write (a full disk, say) is one OutputError and
        leaves the previous outputs as they were (the staging folder goes when the block ends)."""
        try:
            return self.commit(write_into(self.staging))
        except OutputError:
            raise
        except OSError as exc:
            raise OutputError(f"{self.out}: could not write the outputs ({exc.strerror or exc}); free some space "
                              "or fix the folder's permissions and run again (the previous outputs are unchanged)") from None

    def commit(self, staged: list[Path]) -> list[Path]:
        """Move the staged outputs into place as one switch; returns their final paths."""
        relative = sorted({p.relative_to(self.staging).as_posix() for p in staged})
        top = sorted({r.split("/", 1)[0] for r in relative})
        unknown = [t for t in top if t not in TARGETS]
        if unknown:
            raise ValueError(f"not an output of grader: {unknown[0]}")
        kept = self._keep_edited(relative)
        for name in top:   # a page of this run whose name is taken by a file the grader did not write
            if name == "feedback":
                for page in (r for r in relative if r.startswith("feedback/")):
                    if (self.out / page).exists() and page not in self.previous and page not in kept:
                        raise OutputError(f"{self.out / page}: exists and was not written by grader; move it away "
                                          "or choose another --out")
        if "feedback" in top:
            self._carry_over_feedback(set(relative))
        manifest = {"grader": _version(), "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "files": {r: None for r in relative}}
        with atomic_writer(self.out / JOURNAL) as handle:
            json.dump({"moves": top, "manifest": manifest}, handle)
        # From here the journal stands for the switch: if it is interrupted (Ctrl-C, an error), the
        # staged files stay for the next run to finish it with, never removed half-moved.
        self._committed = True
        self._switch({"moves": top, "manifest": manifest})
        return [self.out / r for r in relative]

    def _keep_edited(self, relative: list[str]) -> set[str]:
        """Grader files changed since the last run (size or modification time): renamed aside,
        never overwritten. Returns their old names."""
        kept = set()
        for name, recorded in self.previous.items():
            path = self.out / name
            if recorded is None or not path.is_file() or path.is_symlink():
                continue
            stat = path.stat()
            if [stat.st_size, stat.st_mtime_ns] != recorded:
                aside = path.with_name(f"{path.stem}.edited-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}")
                os.replace(path, aside)
                kept.add(name)
                self.say(f"{path} was changed since grader wrote it: kept as {aside.name} (put corrections in a "
                         "marks file, see README, so that every run uses them)")
        return kept

    def _carry_over_feedback(self, relative: set[str]) -> None:
        """Entries of the old feedback/ that the grader did not write go into the new one (as hard
        links, or copies across devices), so that replacing the folder loses none of them."""
        old, new = self.out / "feedback", self.staging / "feedback"
        if not old.is_dir() or old.is_symlink():
            return
        for entry in os.scandir(old):
            name = f"feedback/{entry.name}"
            if name in self.previous or name in relative:
                continue
            source, target = Path(entry.path), new / entry.name
            if entry.is_dir(follow_symlinks=False):
                shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
            else:
                _link_or_copy(source, target)

    def _switch(self, plan: dict) -> None:
        """Move each staged output into place (idempotent: a killed switch is finished by running it
        again), write the manifest with each file's size and time, remove the journal and staging."""
        out, staging = self.out, self.staging
        for name in plan["moves"]:
            staged, target = staging / name, out / name
            if name == "feedback":
                old = staging / "feedback.old"
                if staged.exists():
                    if target.exists() or target.is_symlink():
                        os.replace(target, old)
                    os.replace(staged, target)
            elif staged.exists():
                os.replace(staged, target)
        manifest = plan["manifest"]
        for name in manifest["files"]:
            path = out / name
            if path.is_file():
                stat = path.stat()
                manifest["files"][name] = [stat.st_size, stat.st_mtime_ns]
        with atomic_writer(out / MANIFEST) as handle:
            json.dump(manifest, handle, indent=0)
        (out / JOURNAL).unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)

    # -- leaving -------------------------------------------------------------------------------------
    def __exit__(self, *exc_info) -> None:
        if not self._committed:
            shutil.rmtree(self.staging, ignore_errors=True)
        self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()   # closing the file releases the lock
            self._lock = None


def _lock(out: Path):
    """An exclusive lock on the folder, held while the file stays open (the system drops it if the
    process dies)."""
    handle = open(out / LOCK, "a+")
    try:
        import fcntl
    except ImportError:   # Windows: no advisory locks here; one run at a time is the user's to keep
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        raise OutputError(f"{out}: another grader run is writing here{f' (process {holder})' if holder else ''}; "
                          "wait for it to finish or choose another --out") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _read_manifest(out: Path) -> dict[str, list[int] | None]:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        files = data["files"]
        return {str(k): v for k, v in files.items()} if isinstance(files, dict) else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _link_or_copy(source, target) -> None:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def _version() -> str:
    from .. import __version__

    return __version__
