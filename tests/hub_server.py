"""A loopback Hugging Face Hub for the tests: the real Hub is unreachable from CI, so hub tests bring their own.

`LoopbackHub` serves, on ``127.0.0.1``, the endpoints that the **unmodified** ``huggingface_hub`` client calls
to create a repo, upload files in one commit, resolve and download files, and describe repos and revisions.
Everything lives in a folder: content-addressed blobs under ``objects/`` and one JSON document per repo under
``repos/`` (its branches and every commit, each commit a full snapshot with a 40-hex sha and its parent).

What it speaks, route by route (names are what `LoopbackHub.fail_next` and `LoopbackHub.break_next` take):

==============  ==========================================================  ==================================
route           request                                                     client call
==============  ==========================================================  ==================================
create_repo     ``POST /api/repos/create``                                  ``HfApi.create_repo``
validate_yaml   ``POST /api/validate-yaml``                                 ``create_commit`` with a README.md
preupload       ``POST /api/models/{repo}/preupload/{rev}``                 ``create_commit`` (upload modes)
lfs_batch       ``POST /{repo}.git/info/lfs/objects/batch``                 ``create_commit`` (LFS files)
lfs_upload      ``PUT /lfs/objects/{sha256}``                               LFS "basic" transfer
lfs_verify      ``POST /lfs/verify``                                        LFS verify action
commit          ``POST /api/models/{repo}/commit/{rev}`` (NDJSON)           ``create_commit``
model_info      ``GET /api/models/{repo}[/revision/{rev}]``                 ``model_info``, ``repo_info``
tree            ``GET /api/models/{repo}/tree/{rev}[/{path}]``              ``list_repo_files/tree``
commits         ``GET /api/models/{repo}/commits/{rev}``                    ``list_repo_commits``
resolve         ``HEAD|GET /{repo}/resolve/{rev}/{path}``                   ``hf_hub_download``
xet_token       ``GET /api/models/{repo}/xet-{read|write}-token/{rev}``     Xet transfers: answered 501
whoami          ``GET /api/whoami-v2``                                      ``HfApi.whoami``
==============  ==========================================================  ==================================

Files whose name matches the Hub's default ``.gitattributes`` (``*.safetensors``, ``*.mp4``, ``*.pt``...) or that
exceed 10 MB go through Git LFS, as on the Hub; the rest travel base64-encoded inside the commit. Xet storage is
not implemented, so clients must run with ``HF_HUB_DISABLE_XET=1`` (the Xet token routes answer 501 saying so).

Errors carry the ``X-Error-Code`` header (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``) that
``huggingface_hub`` turns into its typed exceptions. Writes need ``Authorization: Bearer <token>`` of a token with
the ``write`` role; private repos are invisible without the token.

Faults are injected per route, for the next N requests, so tests need no timing: `LoopbackHub.fail_next` answers an
HTTP error (500, 503, 429 with ``Retry-After``...), `LoopbackHub.break_next` breaks the transfer itself (the
connection dropped without an answer, a body cut short, a body with one byte changed); a test that wants a refused
connection points the client at a stopped hub or a closed port.

Example:
    >>> import tempfile
    >>> from huggingface_hub import HfApi
    >>> with tempfile.TemporaryDirectory() as root, LoopbackHub(root) as hub:
    ...     api = HfApi(endpoint=hub.url, token=hub.token)
    ...     _ = api.create_repo("someone/demo")
    ...     info = api.upload_file(path_or_fileobj=b"hi", path_in_repo="a.txt", repo_id="someone/demo")
    ...     sorted(api.list_repo_files("someone/demo"))
    ['.gitattributes', 'a.txt']
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
import re
import secrets
import tempfile
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

DUMMY_TOKEN = "hf_loopback_dummy_token"
"""The token `LoopbackHub` accepts by default; never a real credential."""

DEFAULT_USER = "mario-zoo-tests"
"""Namespace of repos created without an organization, and the author of every commit."""

# The Hub's default .gitattributes routes these through LFS; we mirror a subset so uploads take the same path.
LFS_PATTERNS = (
    "*.bin",
    "*.ckpt",
    "*.h5",
    "*.mp4",
    "*.npy",
    "*.npz",
    "*.onnx",
    "*.pkl",
    "*.pt",
    "*.pth",
    "*.safetensors",
    "*.zip",
)
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024
"""Bytes above which any file goes through LFS, whatever its name (the Hub's rule)."""

ROUTES = (
    "create_repo",
    "validate_yaml",
    "preupload",
    "lfs_batch",
    "lfs_upload",
    "lfs_verify",
    "commit",
    "model_info",
    "tree",
    "commits",
    "resolve",
    "xet_token",
    "whoami",
)

_REPO = r"(?P<repo>[\w.-]+/[\w.-]+?)"
_REV = r"(?P<rev>[^/]+)"
_ROUTE_TABLE: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(f"^{pattern}$"), name)
    for method, pattern, name in (
        ("GET", r"/api/whoami-v2", "whoami"),
        ("POST", r"/api/repos/create", "create_repo"),
        ("POST", r"/api/validate-yaml", "validate_yaml"),
        ("POST", rf"/api/models/{_REPO}/preupload/{_REV}", "preupload"),
        ("POST", rf"/api/models/{_REPO}/commit/{_REV}", "commit"),
        ("GET", rf"/api/models/{_REPO}/xet-(?:read|write)-token/{_REV}", "xet_token"),
        ("GET", rf"/api/models/{_REPO}/revision/{_REV}", "model_info"),
        ("GET", rf"/api/models/{_REPO}/tree/{_REV}(?:/(?P<path>.+))?", "tree"),
        ("GET", rf"/api/models/{_REPO}/commits/{_REV}", "commits"),
        ("GET", rf"/api/models/{_REPO}", "model_info"),
        ("POST", rf"/{_REPO}\.git/info/lfs/objects/batch", "lfs_batch"),
        ("PUT", r"/lfs/objects/(?P<oid>[0-9a-f]{64})", "lfs_upload"),
        ("POST", r"/lfs/verify", "lfs_verify"),
        ("HEAD", rf"/{_REPO}/resolve/{_REV}/(?P<path>.+)", "resolve"),
        ("GET", rf"/{_REPO}/resolve/{_REV}/(?P<path>.+)", "resolve"),
    )
)


@dataclass(frozen=True)
class StoredFile:
    """One file of a commit: its bytes live in the object store under ``sha256``."""

    sha256: str
    size: int
    git_oid: str
    """Git blob sha1 of the content for regular files, of the LFS pointer for LFS files (what the Hub reports)."""
    lfs: bool


@dataclass(frozen=True)
class Commit:
    """A full snapshot of a repo: every file it holds, not a diff."""

    sha: str
    parent: str | None
    title: str
    message: str
    date: str
    files: dict[str, StoredFile]


TRANSFER_FAULTS = ("disconnect", "truncate", "corrupt")
"""What `LoopbackHub.break_next` does to an answer: close the connection without one, send the headers and only
the first half of the body (the headers still promise all of it), or send the body with its last byte flipped."""

TransferFault = Literal["disconnect", "truncate", "corrupt"]


@dataclass(frozen=True)
class Fault:
    """One injected fault: an HTTP error answer (``status``) or a broken transfer (``transfer``)."""

    method: str | None
    """Only requests with this HTTP method (``"GET"``, ``"HEAD"``...) trigger it; ``None``: any."""
    path: str | None = None
    """Only requests whose URL path ends with this (e.g. ``"/model.safetensors"``) trigger it; ``None``: any."""
    status: int | None = None
    retry_after: int | None = None
    transfer: TransferFault | None = None


@dataclass(frozen=True)
class RequestRecord:
    """One request the hub answered, for tests asserting what a client did (or did not) fetch."""

    method: str
    route: str | None
    path: str


class HubError(Exception):
    """An error answer: HTTP status, optional ``X-Error-Code`` and a message the client shows the user."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        commit: str | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.commit = commit
        self.retry_after = retry_after


def git_blob_oid(data: bytes) -> str:
    """Git's object id of a blob, which the Hub reports for regular files.

    Example:
        >>> git_blob_oid(b"")
        'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
    """
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The text git stores in place of an LFS file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _is_lfs(path: str, size: int) -> bool:
    name = path.rsplit("/", 1)[-1]
    return size > LFS_SIZE_THRESHOLD or any(fnmatch.fnmatch(name, pattern) for pattern in LFS_PATTERNS)


def _front_matter(readme: str) -> dict[str, Any] | None:
    """The YAML block at the top of a README, or None when there is none. Raises yaml.YAMLError if malformed."""
    match = re.match(r"^---\r?\n(.*?)\r?\n---\r?\n", readme, flags=re.DOTALL)
    if match is None:
        return None
    data = yaml.safe_load(match.group(1))
    if data is not None and not isinstance(data, dict):
        raise yaml.YAMLError(f"the metadata block must be a mapping, got {type(data).__name__}")
    return data


class HubStore:
    """Repos, commits and blobs on disk; every method is atomic with respect to the others."""

    def __init__(self, root: Path):
        self.root = root
        self._lock = threading.RLock()
        (root / "objects").mkdir(parents=True, exist_ok=True)
        (root / "repos").mkdir(parents=True, exist_ok=True)

    # -- objects ---------------------------------------------------------------------------------------------
    def _object_path(self, sha256: str) -> Path:
        return self.root / "objects" / sha256

    def put_object(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        with self._lock:
            if not self._object_path(sha256).exists():
                _write_atomically(self._object_path(sha256), data)
        return sha256

    def has_object(self, sha256: str, size: int | None = None) -> bool:
        path = self._object_path(sha256)
        return path.exists() and (size is None or path.stat().st_size == size)

    def read_object(self, sha256: str) -> bytes:
        return self._object_path(sha256).read_bytes()

    # -- repos -----------------------------------------------------------------------------------------------
    def _repo_path(self, repo_id: str) -> Path:
        return self.root / "repos" / f"{repo_id}.json"

    def _load(self, repo_id: str) -> dict[str, Any]:
        path = self._repo_path(repo_id)
        if not path.exists():
            raise HubError(404, f"Repository {repo_id!r} not found", code="RepoNotFound")
        return json.loads(path.read_text())

    def _save(self, repo_id: str, state: dict[str, Any]) -> None:
        _write_atomically(self._repo_path(repo_id), json.dumps(state, indent=1, sort_keys=True).encode())

    def exists(self, repo_id: str) -> bool:
        return self._repo_path(repo_id).exists()

    def is_private(self, repo_id: str) -> bool:
        with self._lock:
            return bool(self._load(repo_id)["private"])

    def create_repo(self, repo_id: str, *, private: bool) -> None:
        """Create ``repo_id`` with the Hub's initial commit (a ``.gitattributes``). Raises 409 if it exists."""
        with self._lock:
            if self.exists(repo_id):
                raise HubError(409, f"You already created this model repo: {repo_id}")
            state = {"private": private, "created_at": _now(), "refs": {}, "commits": {}}
            gitattributes = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in LFS_PATTERNS).encode()
            self._save(repo_id, state)
            self.commit(
                repo_id,
                "main",
                {".gitattributes": self.regular_file(gitattributes)},
                deleted=(),
                title="initial commit",
                message="",
            )

    def regular_file(self, data: bytes) -> StoredFile:
        """Store ``data`` as a file that git keeps itself (not through LFS)."""
        return StoredFile(sha256=self.put_object(data), size=len(data), git_oid=git_blob_oid(data), lfs=False)

    def lfs_file(self, sha256: str, size: int) -> StoredFile:
        """Reference an already uploaded LFS object; 422 if the client never uploaded it."""
        if not self.has_object(sha256, size):
            raise HubError(422, f"LFS object {sha256} ({size} bytes) was not uploaded before the commit")
        return StoredFile(sha256=sha256, size=size, git_oid=git_blob_oid(lfs_pointer(sha256, size)), lfs=True)

    def resolve(self, repo_id: str, revision: str) -> Commit:
        """The commit a branch name, a full sha or an unambiguous sha prefix (5+ hex digits) points to."""
        with self._lock:
            state = self._load(repo_id)
        sha = state["refs"].get(revision)
        if sha is None and re.fullmatch(r"[0-9a-f]{5,40}", revision):
            matches = [c for c in state["commits"] if c.startswith(revision)]
            sha = matches[0] if len(matches) == 1 else None
        if sha is None:
            raise HubError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        return self._commit_from_state(state, sha)

    @staticmethod
    def _commit_from_state(state: dict[str, Any], sha: str) -> Commit:
        raw = state["commits"][sha]
        files = {path: StoredFile(**stored) for path, stored in raw["files"].items()}
        return Commit(**{**raw, "sha": sha, "files": files})

    def history(self, repo_id: str, revision: str) -> list[Commit]:
        """Commits reachable from ``revision``, newest first."""
        with self._lock:
            state = self._load(repo_id)
            commits: list[Commit] = []
            sha: str | None = self.resolve(repo_id, revision).sha
            while sha is not None:
                commits.append(self._commit_from_state(state, sha))
                sha = commits[-1].parent
            return commits

    def commit(
        self,
        repo_id: str,
        branch: str,
        added: dict[str, StoredFile],
        *,
        deleted: tuple[str, ...],
        title: str,
        message: str,
        parent_commit: str | None = None,
    ) -> Commit:
        """Record a new snapshot on ``branch``: the head's files, minus ``deleted`` (files or folders), plus ``added``."""
        with self._lock:
            state = self._load(repo_id)
            head = state["refs"].get(branch)
            if head is None and state["commits"]:
                raise HubError(
                    404, f"Invalid rev id: {branch} (commits go to an existing branch)", code="RevisionNotFound"
                )
            if parent_commit is not None and not (head or "").startswith(parent_commit):
                raise HubError(412, f"A commit has happened since {parent_commit}; the head of {branch} is {head}")
            files = dict(state["commits"][head]["files"]) if head else {}
            for path in deleted:
                doomed = [p for p in files if p == path or p.startswith(path.rstrip("/") + "/")]
                if not doomed:
                    raise HubError(404, f"A file with this name doesn't exist: {path}", code="EntryNotFound")
                for p in doomed:
                    del files[p]
            files.update({path: asdict(stored) for path, stored in added.items()})
            date = _now()
            # Nonce: two identical commits in the same millisecond must still get distinct shas.
            identity = json.dumps([head, files, title, message, date, secrets.token_hex(8)], sort_keys=True)
            sha = hashlib.sha1(identity.encode()).hexdigest()
            state["commits"][sha] = {"parent": head, "title": title, "message": message, "date": date, "files": files}
            state["refs"][branch] = sha
            self._save(repo_id, state)
            return self._commit_from_state(state, sha)

    def corrupt(self, repo_id: str, path: str, revision: str = "main") -> None:
        """Flip the last byte of ``path``'s stored bytes; size and recorded checksums stay as they were.

        The store is content-addressed, so every commit sharing those bytes sees the damage (as with disk rot).
        """
        stored = self.resolve(repo_id, revision).files.get(path)
        if stored is None:
            raise KeyError(f"{path!r} is not in {repo_id}@{revision}")
        with self._lock:
            data = bytearray(self.read_object(stored.sha256))
            data[-1] ^= 0xFF
            _write_atomically(self._object_path(stored.sha256), bytes(data))


class _Handler(BaseHTTPRequestHandler):
    """Routes a request to the `LoopbackHub` method of the same name; answers errors the Hub's way."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line; `LoopbackHub.requests` records requests instead."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            # huggingface_hub always sends a Content-Length; refuse rather than misread a stream we never see.
            self.close_connection = True
            raise HubError(411, "The loopback Hub needs a Content-Length; chunked request bodies are not supported")
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _dispatch(self) -> None:
        hub = self.server.hub
        url = urlsplit(self.path)
        route, params = None, {}
        for method, pattern, name in _ROUTE_TABLE:
            match = pattern.match(url.path)
            if match and method == self.command:
                route, params = name, {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                break
        hub._record(RequestRecord(self.command, route, url.path))
        try:
            # Read the body first, even for requests we refuse: an unread body would desync the kept-alive
            # connection.
            body = self._read_body()
            if route is None:
                raise HubError(404, f"The loopback Hub does not implement {self.command} {url.path}")
            fault = hub._take_fault(route, self.command, url.path)
            if fault is not None and fault.status is not None:
                raise HubError(
                    fault.status,
                    f"Injected fault: the loopback Hub was told to fail {route!r} with {fault.status}",
                    retry_after=fault.retry_after,
                )
            if fault is not None and fault.transfer == "disconnect":
                self.close_connection = True  # the connection drops with no answer at all
                return
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            status, headers, payload = getattr(hub, f"_{route}")(self, params, query, body)
        except HubError as error:
            fault = None
            status, payload = error.status, json.dumps({"error": error.message}).encode()
            headers = {"Content-Type": "application/json", "X-Error-Message": error.message}
            if error.code:
                headers["X-Error-Code"] = error.code
            if error.commit:
                headers["X-Repo-Commit"] = error.commit
            if error.retry_after is not None:
                headers["Retry-After"] = str(error.retry_after)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if fault is not None and fault.transfer == "truncate":
            self.wfile.write(payload[: len(payload) // 2])
            self.close_connection = True  # fewer bytes than Content-Length promised, then the connection ends
            return
        if fault is not None and fault.transfer == "corrupt" and payload:
            payload = payload[:-1] + bytes([payload[-1] ^ 0xFF])
        self.wfile.write(payload)

    def authenticated(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {self.server.hub.token}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hub: LoopbackHub


_Answer = tuple[int, dict[str, str], bytes]


def _json(data: Any, status: int = 200) -> _Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


class LoopbackHub:
    """The loopback Hub server: start it, point ``HF_ENDPOINT`` at `url`, use ``huggingface_hub`` as usual.

    Args:
        root: folder holding the blobs and repos (created if missing); reuse it to restart on the same data.
        token: the only token accepted for writes and for reading private repos.
        token_role: ``"write"``, or ``"read"`` for a token that reads private repos but may not write.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as root, LoopbackHub(root) as hub:
        ...     hub.fail_next("commit", status=500)
        ...     hub.url.startswith("http://127.0.0.1:")
        True
    """

    def __init__(self, root: str | os.PathLike[str], *, token: str = DUMMY_TOKEN, token_role: str = "write"):
        self.store = HubStore(Path(root))
        self.token = token
        self.token_role = token_role
        self.requests: list[RequestRecord] = []
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> LoopbackHub:
        """Listen on a free port of 127.0.0.1 in a background thread."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.hub = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="loopback-hub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackHub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("The loopback Hub is not running; call start() (or use it as a context manager).")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- test hooks ------------------------------------------------------------------------------------------
    def fail_next(
        self,
        route: str,
        *,
        status: int = 500,
        times: int = 1,
        retry_after: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests to ``route`` with ``status`` instead of serving them.

        ``retry_after`` adds a ``Retry-After`` header (seconds, as the Hub sends with 429); ``method`` and ``path``
        restrict the fault to requests of that HTTP method (``resolve`` serves both ``HEAD`` and ``GET``) and to
        URL paths ending with ``path`` (one file of a repo).

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as root:
            ...     LoopbackHub(root).fail_next("comit")
            Traceback (most recent call last):
            ...
            ValueError: Unknown route 'comit'; choose one of: create_repo, validate_yaml, preupload, ...
        """
        self._add_faults(route, Fault(method, path, status=status, retry_after=retry_after), times)

    def break_next(
        self,
        route: str,
        fault: TransferFault,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Break the transfer of the next ``times`` answers of ``route`` (see `TRANSFER_FAULTS`), of requests
        with ``method`` and a URL path ending with ``path`` when given.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as root:
            ...     LoopbackHub(root).break_next("resolve", "garble")
            Traceback (most recent call last):
            ...
            ValueError: Unknown transfer fault 'garble'; choose one of: disconnect, truncate, corrupt
        """
        if fault not in TRANSFER_FAULTS:
            raise ValueError(f"Unknown transfer fault {fault!r}; choose one of: {', '.join(TRANSFER_FAULTS)}")
        self._add_faults(route, Fault(method, path, transfer=fault), times)

    def clear_faults(self) -> None:
        """Forget the faults not yet triggered: the hub serves every request normally again."""
        with self._lock:
            self._faults.clear()

    def _add_faults(self, route: str, fault: Fault, times: int) -> None:
        if route not in ROUTES:
            raise ValueError(f"Unknown route {route!r}; choose one of: {', '.join(ROUTES)}")
        if fault.method is not None and fault.method not in ("GET", "HEAD", "POST", "PUT"):
            raise ValueError(f"Unknown method {fault.method!r}; choose one of: GET, HEAD, POST, PUT")
        with self._lock:
            self._faults.setdefault(route, []).extend([fault] * times)

    def corrupt(self, repo_id: str, path: str, revision: str = "main") -> None:
        """Damage the stored bytes of ``path`` (see `HubStore.corrupt`): downloads then serve wrong content."""
        self.store.corrupt(repo_id, path, revision)

    def commits(self, repo_id: str, revision: str = "main") -> list[Commit]:
        """The history of ``revision`` as the server holds it, newest first."""
        return self.store.history(repo_id, revision)

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def _take_fault(self, route: str, method: str, path: str) -> Fault | None:
        """The next pending fault of ``route`` that applies to a ``method`` request of ``path``, removed from the
        queue."""
        with self._lock:
            pending = self._faults.get(route, [])
            for index, fault in enumerate(pending):
                if fault.method in (None, method) and (fault.path is None or path.endswith(fault.path)):
                    return pending.pop(index)
        return None

    # -- helpers ---------------------------------------------------------------------------------------------
    def _readable(self, request: _Handler, repo_id: str) -> None:
        """Raise RepoNotFound unless the repo exists and the caller may see it (private repos need the token)."""
        if not self.store.exists(repo_id) or (self.store.is_private(repo_id) and not request.authenticated()):
            raise HubError(404, f"Repository {repo_id!r} not found", code="RepoNotFound")

    def _writable(self, request: _Handler, repo_id: str | None = None) -> None:
        if not request.authenticated():
            raise HubError(401, "Invalid credentials in Authorization header")
        if self.token_role != "write":
            raise HubError(403, "You don't have the rights to write with a read-only token")
        if repo_id is not None and not self.store.exists(repo_id):
            raise HubError(404, f"Repository {repo_id!r} not found", code="RepoNotFound")

    # -- routes: each returns (status, headers, body) ------------------------------------------------------
    def _whoami(self, request: _Handler, params: dict, query: dict, body: bytes) -> _Answer:
        if not request.authenticated():
            raise HubError(401, "Invalid credentials in Authorization header")
        return _json(
            {
                "type": "user",
                "name": DEFAULT_USER,
                "fullname": "mario-zoo tests",
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": {"displayName": "loopback", "role": self.token_role}},
            }
        )

    def _create_repo(self, request: _Handler, params: dict, query: dict, body: bytes) -> _Answer:
        self._writable(request)
        payload = json.loads(body)
        if payload.get("type", "model") != "model":
            raise HubError(400, f"The loopback Hub only hosts model repos, not {payload['type']!r}")
        repo_id = f"{payload.get('organization') or DEFAULT_USER}/{payload['name']}"
        url = f"{self.url}/{repo_id}"
        try:
            self.store.create_repo(repo_id, private=payload.get("visibility", "public") != "public")
        except HubError as error:
            if error.status != 409:
                raise
            return _json({"error": error.message, "url": url}, status=409)
        return _json({"url": url, "name": repo_id, "id": repo_id})

    def _validate_yaml(self, request: _Handler, params: dict, query: dict, body: bytes) -> _Answer:
        try:
            _front_matter(json.loads(body)["content"])
        except yaml.YAMLError as error:
            return _json({"errors": [{"message": f"Invalid YAML in README.md: {error}"}], "warnings": []}, 400)
        return _json({"errors": [], "warnings": []})

    def _preupload(self, request: _Handler, params: dict, query: dict, body: bytes) -> _Answer:
        self._writable(request, params["repo"])
        existing = self.store.resolve(params["repo"], params["rev"]).files
        answers = []
        for file in json.loads(body)["files"]:
            lfs = _is_lfs(file["path"], file["size"])
            stored = existing.get(file["path"])
            # The client skips files whose oid matches its own (sha256 for LFS, git sha1 otherwise).
            oid = None if stored is None or stored.lfs != lfs else (stored.sha256 if lfs else stored.git_oid)
            answers.append(
                {"path": file["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid}
            )
        return _json({"files": answers, "commitOid": self.store.resolve(params["repo"], params["rev"]).sha})

    def _lfs_batch(self, request: _Handler, params: dict, query: dict, body: bytes) -> _Answer:
        self._writable(request, params["repo"])
        payload = json.loads(body)
        if payload.get("operation") != "upload" or "basic" not in payload.get("transfers", ["basic"]):
            raise HubError(400, "The loopback Hub's LFS batch API only supports basic uploads")
        objects = []
        for obj in payload["objects"]:
            entry: dict[str, Any] = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            # No "actions" tells the client the object is already stored, so it skips the upload.
            if not self.store.has_object(obj["oid"], obj["size"]):
                entry["actions"] = {
                    "upload": {"href": f"{self.url}/lfs/objects/{obj['oid']}"},
                    "verify": {"href": f"{self.url}/lfs/verify"},
                }
            objects.append(entry)
        return _json({"transfer": "basic", "objects": objects})

    def _lfs_upload(self, request: _Handler, params: dict, query: dict, body: bytes) -> _Answer:
        # Like a presigned storage URL: no auth header, the content must hash to the oid in the URL.
        if hashlib.sha256(body).hexdigest() != params["oid"]:
            raise HubError(400, f"Uploaded content does not hash to {params['oid']}")
        self.store.put_object(body)
        return 200, {"ETag": f'"{params["oid"]}"'}, b""

    def _lfs_verify(self, request: _Handler, params: dict, query: dict, body: bytes) -> _Answer:
        payload = json.loads(body)
        if not self.store.has_object(payload["oid"], payload["size"]):
            raise HubError(404, f"LFS object {payload['oid']} ({payload['size']} bytes) is not stored")
        return _json({"success": True})

    def _commit(self, request: _Handler, params: dict, query: dict, body: bytes) -> _Answer:
        repo_id, branch = params["repo"], params["rev"]
        self._writable(request, repo_id)
        if query.get("create_pr"):
            raise HubError(400, "The loopback Hub does not implement pull requests (create_pr=True)")
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "A commit payload starts with a 'header' line")
        header = lines[0]["value"]
        added: dict[str, StoredFile] = {}
        deleted: list[str] = []
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            if key == "file":
                if value.get("encoding") != "base64":
                    raise HubError(400, f"Unsupported encoding {value.get('encoding')!r} for {value['path']}")
                added[value["path"]] = self.store.regular_file(base64.b64decode(value["content"]))
            elif key == "lfsFile":
                added[value["path"]] = self.store.lfs_file(value["oid"], value["size"])
            elif key in ("deletedFile", "deletedFolder"):
                deleted.append(value["path"])
            else:
                raise HubError(400, f"Unsupported commit operation {key!r}")
        commit = self.store.commit(
            repo_id,
            branch,
            added,
            deleted=tuple(deleted),
            title=header["summary"],
            message=header.get("description", ""),
            parent_commit=header.get("parentCommit"),
        )
        return _json(
            {
                "success": True,
                "commitOid": commit.sha,
                "commitUrl": f"{self.url}/{repo_id}/commit/{commit.sha}",
                "pullRequestUrl": None,
            }
        )

    def _model_info(self, request: _Handler, params: dict, query: dict, body: bytes) -> _Answer:
        repo_id = params["repo"]
        self._readable(request, repo_id)
        commit = self.store.resolve(repo_id, params.get("rev", "main"))
        card: dict[str, Any] = {}
        if "README.md" in commit.files:
            try:
                card = _front_matter(self.store.read_object(commit.files["README.md"].sha256).decode()) or {}
            except (yaml.YAMLError, UnicodeDecodeError):
                card = {}
        siblings = []
        for path, stored in sorted(commit.files.items()):
            sibling: dict[str, Any] = {"rfilename": path}
            if query.get("blobs"):
                sibling.update(size=stored.size, blobId=stored.git_oid)
                if stored.lfs:
                    pointer_size = len(lfs_pointer(stored.sha256, stored.size))
                    sibling["lfs"] = {"size": stored.size, "sha256": stored.sha256, "pointerSize": pointer_size}
            siblings.append(sibling)
        namespace = repo_id.split("/")[0]
        return _json(
            {
                "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
                "id": repo_id,
                "modelId": repo_id,
                "author": namespace,
                "sha": commit.sha,
                "lastModified": commit.date,
                "createdAt": self.store.history(repo_id, commit.sha)[-1].date,
                "private": self.store.is_private(repo_id),
                "disabled": False,
                "gated": False,
                "downloads": 0,
                "likes": 0,
                "library_name": card.get("library_name"),
                "tags": card.get("tags", []),
                "cardData": card or None,
                "model-index": card.get("model-index"),
                "siblings": siblings,
            }
        )

    def _tree(self, request: _Handler, params: dict, query: dict, body: bytes) -> _Answer:
        repo_id = params["repo"]
        self._readable(request, repo_id)
        commit = self.store.resolve(repo_id, params["rev"])
        prefix = params["path"].strip("/") + "/" if params.get("path") else ""
        recursive = query.get("recursive", "False").lower() == "true"
        below = {path: stored for path, stored in commit.files.items() if path.startswith(prefix)}
        if prefix and not below:
            raise HubError(404, f"{params['path']} does not exist on {params['rev']}", code="EntryNotFound")
        entries: dict[str, dict[str, Any]] = {}
        for path, stored in sorted(below.items()):
            parts = path[len(prefix) :].split("/")
            # Folders on the way to a file: all of them when recursive, only the first level otherwise.
            for depth in range(1, len(parts) if recursive else min(len(parts), 2)):
                folder = prefix + "/".join(parts[:depth])
                oid = hashlib.sha1(folder.encode() + commit.sha.encode()).hexdigest()
                entries.setdefault(folder, {"type": "directory", "oid": oid, "size": 0, "path": folder})
            if recursive or len(parts) == 1:
                entry: dict[str, Any] = {"type": "file", "oid": stored.git_oid, "size": stored.size, "path": path}
                if stored.lfs:
                    pointer_size = len(lfs_pointer(stored.sha256, stored.size))
                    entry["lfs"] = {"oid": stored.sha256, "size": stored.size, "pointerSize": pointer_size}
                entries[path] = entry
        return _json(list(entries.values()))

    def _commits(self, request: _Handler, params: dict, query: dict, body: bytes) -> _Answer:
        self._readable(request, params["repo"])
        return _json(
            [
                {
                    "id": commit.sha,
                    "title": commit.title,
                    "message": commit.message,
                    "authors": [{"user": DEFAULT_USER}],
                    "date": commit.date,
                }
                for commit in self.store.history(params["repo"], params["rev"])
            ]
        )

    def _resolve(self, request: _Handler, params: dict, query: dict, body: bytes) -> _Answer:
        repo_id, path = params["repo"], params["path"]
        self._readable(request, repo_id)
        commit = self.store.resolve(repo_id, params["rev"])
        stored = commit.files.get(path)
        if stored is None:
            raise HubError(404, f"Entry not found: {path} at {commit.sha}", code="EntryNotFound", commit=commit.sha)
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(stored.size),
            # The Hub's ETag: sha256 for LFS files (what the client names cached blobs after), git sha1 otherwise.
            "ETag": f'"{stored.sha256 if stored.lfs else stored.git_oid}"',
            "X-Repo-Commit": commit.sha,
        }
        payload = b"" if request.command == "HEAD" else self.store.read_object(stored.sha256)
        return 200, headers, payload

    def _xet_token(self, request: _Handler, params: dict, query: dict, body: bytes) -> _Answer:
        raise HubError(
            501,
            "The loopback Hub does not implement Xet storage; run the client with HF_HUB_DISABLE_XET=1 "
            "so it uses the LFS and HTTP download paths",
        )
