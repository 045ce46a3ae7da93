"""An in-memory file system with a trash, shared by all mock apps.

Paths are absolute POSIX strings ("/home/user/Documents/notes.txt"). Files hold text. Deleting moves an entry
(with its subtree) to the trash, from where it can be restored to its original place; a name clash on restore
gets a " (2)"-style suffix, as desktop file managers do.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

HOME = "/home/user"
STANDARD_DIRS = (HOME, f"{HOME}/Desktop", f"{HOME}/Documents", f"{HOME}/Downloads", f"{HOME}/Pictures")


class FsError(Exception):
    """A file operation that cannot be done (missing path, name clash, bad name). Apps show it in a dialog."""


def norm(path: str) -> str:
    """The absolute, normalised form of ``path``; relative paths are taken from the home folder."""
    if not path.startswith("/"):
        path = posixpath.join(HOME, path)
    p = posixpath.normpath(path)
    return "/" if p in ("/", "//") else p


def check_name(name: str) -> str:
    """``name`` without surrounding whitespace, if it is a valid file or folder name.

    Raises:
        FsError: an empty name, "." or "..", or a name containing "/".
    """
    name = name.strip()
    if not name or name in (".", "..") or "/" in name:
        raise FsError(f"{name!r} is not a valid name: use a non-empty name without '/'")
    return name


@dataclass
class TrashEntry:
    """A deleted file or folder in the trash, with everything needed to restore it.

    Attributes:
        id: the entry's id (unique within the file system).
        name: the deleted item's name.
        original_path: where it was, and where a restore puts it back.
        is_dir: True for a folder.
        files: relative path -> content of the folder's files ("" -> the content for a file).
        dirs: the folder's sub-folders, relative.
    """
    id: int
    name: str
    original_path: str
    is_dir: bool
    files: dict[str, str] = field(default_factory=dict)   # relative path -> content ("" key for a file)
    dirs: list[str] = field(default_factory=list)          # relative sub-directories


class FileSystem:
    """The mock desktop's in-memory file system with a trash; starts with the standard home folders."""
    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.dirs: set[str] = {"/"}
        self.trash: list[TrashEntry] = []
        self._trash_id = 1
        self.version = 0  # bumped on every change so views can refresh cheaply
        for d in STANDARD_DIRS:
            self.mkdir(d, parents=True)

    # ------------------------------------------------------------------ queries
    def exists(self, path: str) -> bool:
        """True when ``path`` is a file or a folder."""
        p = norm(path)
        return p in self.files or p in self.dirs

    def is_dir(self, path: str) -> bool:
        """True when ``path`` is a folder."""
        return norm(path) in self.dirs

    def is_file(self, path: str) -> bool:
        """True when ``path`` is a file."""
        return norm(path) in self.files

    def read(self, path: str) -> str:
        """The text of the file at ``path``.

        Raises:
            FsError: no such file.
        """
        p = norm(path)
        if p not in self.files:
            raise FsError(f"no such file: {p}")
        return self.files[p]

    def listdir(self, path: str) -> list[tuple[str, bool]]:
        """(name, is_dir) entries of a directory: folders first, then files, each sorted case-insensitively."""
        p = norm(path)
        if p not in self.dirs:
            raise FsError(f"no such folder: {p}")
        prefix = p.rstrip("/") + "/"
        dirs = [d[len(prefix):] for d in self.dirs if d.startswith(prefix) and "/" not in d[len(prefix):]
                and d != p]
        files = [f[len(prefix):] for f in self.files if f.startswith(prefix) and "/" not in f[len(prefix):]]
        return ([(n, True) for n in sorted(dirs, key=str.lower)]
                + [(n, False) for n in sorted(files, key=str.lower)])

    def unique_name(self, folder: str, name: str) -> str:
        """``name``, or ``stem (2).ext``, ``stem (3).ext``... whichever is free in ``folder``."""
        folder = norm(folder)
        if not self.exists(posixpath.join(folder, name)):
            return name
        stem, ext = posixpath.splitext(name)
        if not stem:
            stem, ext = name, ""
        i = 2
        while self.exists(posixpath.join(folder, f"{stem} ({i}){ext}")):
            i += 1
        return f"{stem} ({i}){ext}"

    # ------------------------------------------------------------------ changes
    def _changed(self) -> None:
        self.version += 1

    def _ensure_parent(self, p: str, parents: bool) -> None:
        parent = posixpath.dirname(p)
        if parent in self.dirs:
            return
        if not parents:
            raise FsError(f"no such folder: {parent}")
        missing = []  # a loop, not a recursion: a task may name a path thousands of folders deep
        while parent not in self.dirs and parent != posixpath.dirname(parent):
            if parent in self.files:
                raise FsError(f"a file named {posixpath.basename(parent)!r} already exists")
            missing.append(parent)
            parent = posixpath.dirname(parent)
        for folder in reversed(missing):
            self.dirs.add(folder)
            self._changed()

    def mkdir(self, path: str, parents: bool = False) -> str:
        """Create the folder at ``path`` (an existing folder is fine).

        Args:
            path: the folder to create.
            parents: also create missing parent folders.

        Returns:
            The normalised path.

        Raises:
            FsError: a file has that name, or the parent is missing and ``parents`` is False.
        """
        p = norm(path)
        if p in self.files:
            raise FsError(f"a file named {posixpath.basename(p)!r} already exists")
        self._ensure_parent(p, parents)
        if p not in self.dirs:
            self.dirs.add(p)
            self._changed()
        return p

    def write(self, path: str, content: str, *, parents: bool = False) -> str:
        """Create or overwrite the file at ``path``.

        Args:
            path: the file's path.
            content: its text.
            parents: also create missing parent folders.

        Returns:
            The normalised path.

        Raises:
            FsError: ``path`` is a folder, the parent is missing (without ``parents``), or the name is invalid.
        """
        p = norm(path)
        if p in self.dirs:
            raise FsError(f"{p} is a folder")
        self._ensure_parent(p, parents)
        check_name(posixpath.basename(p))
        self.files[p] = content
        self._changed()
        return p

    def _subtree(self, p: str) -> tuple[list[str], list[str]]:
        prefix = p.rstrip("/") + "/"
        return ([f for f in self.files if f.startswith(prefix)], [d for d in self.dirs if d.startswith(prefix)])

    def move(self, src: str, dst: str) -> str:
        """Move ``src`` to the path ``dst`` (not into it). Returns the new path."""
        s, t = norm(src), norm(dst)
        if not self.exists(s):
            raise FsError(f"no such file or folder: {s}")
        if s == t:
            return t
        if self.exists(t):
            raise FsError(f"{posixpath.basename(t)!r} already exists in {posixpath.dirname(t)}")
        if posixpath.dirname(t) not in self.dirs:
            raise FsError(f"no such folder: {posixpath.dirname(t)}")
        if s in self.dirs and (t + "/").startswith(s + "/"):
            raise FsError("cannot move a folder into itself")
        check_name(posixpath.basename(t))
        if s in self.files:
            self.files[t] = self.files.pop(s)
        else:
            files, dirs = self._subtree(s)
            for f in files:
                self.files[t + f[len(s):]] = self.files.pop(f)
            for d in dirs:
                self.dirs.remove(d)
                self.dirs.add(t + d[len(s):])
            self.dirs.remove(s)
            self.dirs.add(t)
        self._changed()
        return t

    def move_into(self, src: str, folder: str) -> str:
        """Move ``src`` into ``folder``, keeping its name.

        Returns:
            The new path.

        Raises:
            FsError: as ``move``.
        """
        return self.move(src, posixpath.join(norm(folder), posixpath.basename(norm(src))))

    def rename(self, path: str, new_name: str) -> str:
        """Give the file or folder at ``path`` a new name in the same folder.

        Returns:
            The new path.

        Raises:
            FsError: an invalid name, or as ``move``.
        """
        p = norm(path)
        return self.move(p, posixpath.join(posixpath.dirname(p), check_name(new_name)))

    def copy(self, src: str, dst: str) -> str:
        """Copy the file ``src`` to ``dst``.

        Returns:
            The new file's path.

        Raises:
            FsError: ``src`` is not a file, ``dst`` exists, or its folder is missing.
        """
        s, t = norm(src), norm(dst)
        if s not in self.files:
            raise FsError(f"only files can be copied: {s}")
        if self.exists(t):
            raise FsError(f"{posixpath.basename(t)!r} already exists")
        return self.write(t, self.files[s])

    def delete(self, path: str) -> TrashEntry:
        """Move ``path`` to the trash."""
        p = norm(path)
        if p in ("/", HOME) or p in STANDARD_DIRS:
            raise FsError(f"{p} cannot be deleted")
        if not self.exists(p):
            raise FsError(f"no such file or folder: {p}")
        entry = TrashEntry(self._trash_id, posixpath.basename(p), p, p in self.dirs)
        self._trash_id += 1
        if p in self.files:
            entry.files[""] = self.files.pop(p)
        else:
            files, dirs = self._subtree(p)
            for f in files:
                entry.files[f[len(p) + 1:]] = self.files.pop(f)
            for d in dirs:
                entry.dirs.append(d[len(p) + 1:])
                self.dirs.remove(d)
            self.dirs.remove(p)
        self.trash.append(entry)
        self._changed()
        return entry

    def trash_entry(self, entry_id: int) -> TrashEntry:
        """The trash entry with id ``entry_id``.

        Raises:
            FsError: no such entry.
        """
        for e in self.trash:
            if e.id == entry_id:
                return e
        raise FsError(f"no trash entry {entry_id}")

    def restore(self, entry_id: int) -> str:
        """Put a trash entry back where it was (recreating its folder; a clashing name gets a " (2)" suffix).

        Returns:
            The restored path.

        Raises:
            FsError: no such entry.
        """
        e = self.trash_entry(entry_id)
        folder = posixpath.dirname(e.original_path)
        self.mkdir(folder, parents=True)
        target = posixpath.join(folder, self.unique_name(folder, e.name))
        if e.is_dir:
            self.dirs.add(target)
            for d in sorted(e.dirs):
                self.dirs.add(posixpath.join(target, d))
            for rel, content in e.files.items():
                self.files[posixpath.join(target, rel)] = content
        else:
            self.files[target] = e.files.get("", "")
        self.trash.remove(e)
        self._changed()
        return target

    def purge(self, entry_id: int) -> None:
        """Delete one trash entry for good.

        Raises:
            FsError: no such entry.
        """
        self.trash.remove(self.trash_entry(entry_id))
        self._changed()

    def empty_trash(self) -> None:
        """Delete every trash entry for good."""
        if self.trash:
            self.trash.clear()
            self._changed()

    # ------------------------------------------------------------------ plain data
    def state(self) -> dict:
        """Files, folders and trash as JSON-able data (the ``files``, ``dirs`` and ``trash`` keys of ``state()``)."""
        return {
            "files": dict(sorted(self.files.items())),
            "dirs": sorted(self.dirs),
            "trash": [{"name": e.name, "original_path": e.original_path, "is_dir": e.is_dir,
                       "content": e.files.get("") if not e.is_dir else None,
                       "files": dict(sorted(e.files.items())) if e.is_dir else None} for e in self.trash],
        }

    def load(self, files: dict[str, str] | None = None, dirs: list[str] | None = None,
             trash: list[dict] | None = None) -> None:
        """Fill the file system from an initial state.

        Args:
            files: path -> content; missing folders are created.
            dirs: folders to create.
            trash: items to create and then delete (``path``, ``content`` or ``is_dir`` with ``files``).

        Raises:
            FsError: a path clashes or a name is invalid.
            KeyError: a trash item without ``path``.
        """
        for d in dirs or ():
            self.mkdir(d, parents=True)
        for path, content in (files or {}).items():
            self.write(path, content, parents=True)
        for item in trash or ():
            path = norm(item["path"])
            if item.get("is_dir"):
                self.mkdir(path, parents=True)
                for rel, content in (item.get("files") or {}).items():
                    self.write(posixpath.join(path, rel), content, parents=True)
            else:
                self.write(path, item.get("content", ""), parents=True)
            self.delete(path)
