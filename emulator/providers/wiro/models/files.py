"""Wiro's files: folders per project (File/FolderCreate), uploads (File/Upload) and the file parts of a Run."""

from __future__ import annotations

import re
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.wiro import rules
from emulator.core import images
from emulator.core.artifacts import Artifact, StorageFull
from emulator.core.http import Part
from emulator.core.retained import Retained
from emulator.core.runtime import Runtime

from .. import errors
from ..auth import Project
from ..wire import plain, stamp

HEX = "0123456789abcdef"
EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,10})$")


@dataclass
class Folder:
    id: str
    name: str
    parent_id: str
    project_key: str
    added_at: float


class Files:
    def __init__(self, runtime: Runtime, *, artifact_ttl: float, max_folders: int) -> None:
        self.runtime = runtime
        self.artifact_ttl = artifact_ttl
        self._folders: Retained[str, Folder] = runtime.retained("wiro.folders", max_folders)
        # Each project's root folder, made on first use and never forgotten.
        self._roots: Retained[str, Folder] = runtime.retained("wiro.roots", sys.maxsize)

    def create_folder(self, project: Project, body: Mapping[str, Any]) -> dict[str, Any]:
        body = plain(body)
        errors.check("folderCreate", body)
        parent = self._folder(project, body.get("parentid"))
        folder = Folder(self.runtime.ids.token(32, HEX), body["name"], parent.id, project.key, self.runtime.clock.now())
        self._folders.put(folder.id, folder)
        return {
            "id": folder.id,
            "name": folder.name,
            "parentid": folder.parent_id,
            "size": "0",
            "contenttype": "",
            "addedtime": stamp(folder.added_at),
        }

    async def upload(self, project: Project, body: Mapping[str, Any], base_url: str) -> dict[str, Any]:
        upload = body.get("file")
        errors.check("upload", plain(body))
        assert isinstance(upload, Part)
        folder = self._folder(project, plain(body).get("folderid"))
        info: images.ImageInfo | None
        try:
            info = await images.offload(images.inspect, upload.data, size=len(upload.data))
        except images.BrokenImage:
            info = None
        if info is not None:
            artifact = self._add_blob(
                upload.data, info.media_type, info.extension, name=upload.filename, width=info.width, height=info.height
            )
            content_type = info.media_type
        else:
            # Not an image: kept as bytes and served as application/octet-stream (never as the client's type).
            found = EXTENSION.search(upload.filename)
            artifact = self._add_blob(
                upload.data,
                "application/octet-stream",
                found.group(1).lower() if found else "bin",
                name=upload.filename,
            )
            content_type = upload.content_type
        return {
            "id": artifact.id,
            "name": upload.filename or f"{artifact.id}.{artifact.extension}",
            "contenttype": content_type,
            "size": str(len(upload.data)),
            "parentid": folder.id,
            "url": self.runtime.file_url(base_url, artifact),
            "addedtime": stamp(self.runtime.clock.now()),
            "accesskey": self.runtime.ids.token(rules.RULES["tokenLength"], string.ascii_letters),
        }

    async def store_image(self, upload: Part, path: str) -> Artifact:
        """A Run's file part, kept so the task can read it: it must be an image."""
        try:
            info = await images.offload(images.inspect, upload.data, size=len(upload.data))
        except images.BrokenImage as exc:
            detail = errors.note("unreadableFile", name=upload.filename or "the file", detail=str(exc))
            raise errors.parameters_invalid(path, detail) from None
        return self._add_blob(
            upload.data, info.media_type, info.extension, name=upload.filename, width=info.width, height=info.height
        )

    def reset(self) -> None:
        self._folders.clear()
        self._roots.clear()

    def _add_blob(self, data: bytes, media_type: str, extension: str, **info: Any) -> Artifact:
        try:
            return self.runtime.artifacts.add_blob(
                self.runtime.ids.token(32, HEX), data, media_type, extension, self.artifact_ttl, **info
            )
        except StorageFull:
            raise errors.named("storageFull") from None

    def _folder(self, project: Project, folder_id: Any) -> Folder:
        if folder_id is None or folder_id == "":
            return self._root(project)
        root = self._roots.get(project.key)
        if root is not None and root.id == str(folder_id):
            return root
        folder = self._folders.get(str(folder_id))
        if folder is None or folder.project_key != project.key:
            raise errors.named("folderNotFound")
        return folder

    def _root(self, project: Project) -> Folder:
        root = self._roots.get(project.key)
        if root is None:
            root = Folder(self.runtime.ids.token(32, HEX), "root", "", project.key, self.runtime.clock.now())
            self._roots.put(project.key, root)
        return root
