"""What the emulator knows of Replicate's catalog: the one model, its versions, and the account behind the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.replicate import rules

from .. import errors

MODEL = rules.MODEL


class Catalog:
    @staticmethod
    def is_model(owner: str, name: str) -> bool:
        return f"{owner}/{name}" == rules.MODEL_REF

    def require(self, owner: str, name: str) -> None:
        """Replicate's 404 for any model but bytedance/seedream-4."""
        if not self.is_model(owner, name):
            raise errors.problem("notFound")

    def model(self, owner: str, name: str) -> dict[str, Any]:
        self.require(owner, name)
        return {
            "url": MODEL["url"],
            "owner": MODEL["owner"],
            "name": MODEL["name"],
            "description": MODEL["description"],
            "visibility": MODEL["visibility"],
            "github_url": None,
            "paper_url": None,
            "license_url": None,
            "cover_image_url": None,
            "run_count": MODEL["runCount"],
            "default_example": None,
            "latest_version": _version(rules.LATEST_VERSION),
        }

    def versions(self, owner: str, name: str) -> dict[str, Any]:
        self.require(owner, name)
        return {"next": None, "previous": None, "results": [_version(version) for version in rules.VERSIONS]}

    def version(self, owner: str, name: str, version_id: str) -> dict[str, Any]:
        self.require(owner, name)
        for version in rules.VERSIONS:
            if version["id"] == version_id:
                return _version(version)
        raise errors.problem("notFound")

    @staticmethod
    def check_version(version: str) -> None:
        """`POST /v1/predictions` names the model by version: a known id, `owner/name:id`, or `owner/name`."""
        model, colon, version_id = version.partition(":")
        if not colon:
            if version == rules.MODEL_REF or rules.known_version(version):
                return
        elif model == rules.MODEL_REF and rules.known_version(version_id):
            return
        raise errors.problem("invalidVersion")

    @staticmethod
    def account() -> dict[str, Any]:
        return dict(rules.RULES["account"])


def _version(version: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": version["id"],
        "created_at": version["created_at"],
        "cog_version": MODEL["cogVersion"],
        "openapi_schema": rules.openapi_schema(),
    }
