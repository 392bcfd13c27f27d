"""Static sites: an S3 bucket (under an optional prefix) served by a CloudFront distribution.

A deploy uploads a local build directory, only the files whose MD5 differs from the
object's ETag (or, where the ETag is not an MD5, from the last manifest), removes the
files the previous deploy put there and this one lacks, writes a manifest
(`.quorum/deploy.json`: version, files, who and when) and then invalidates the
changed paths, following the invalidation until CloudFront reports it Completed
(a distribution or invalidation still InProgress keeps the site's row progressing,
read again every `rollout_interval`). The manifest's own object versions are the
deploy history, so on a versioned bucket a rollback restores every file of an
earlier deploy from its recorded version id; an unversioned bucket keeps no earlier
contents, and a rollback there is refused plainly.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import mimetypes
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.domain.identity import current_identity
from console.domain.model import Revision, RolloutStatus, Snapshot, Target, TargetRef, utcnow
from providers.aws.connection import Aws, error_code
from providers.aws.ecs_status import as_time
from providers.aws.settings import SITE_DECLARED, Site, check_sites, parse_sites
from providers.base import (
    Capability,
    NotFound,
    Provider,
    ProviderContext,
    ProviderError,
    Refused,
    report_progress,
)
from providers.reads import together

MANIFEST = ".quorum/deploy.json"
MAX_PATHS = 15  # more changed paths than this invalidate "/*" (one path, billed once)
IN_PROGRESS = "InProgress"  # CloudFront's word for a distribution or invalidation not done


@dataclass(frozen=True)
class LocalFile:
    key: str  # path relative to the build directory, with /
    path: Path
    md5: str
    size: int


def scan(build: Path) -> list[LocalFile]:
    """Every file under `build` with its MD5 (what S3 reports as the ETag of a simple upload)."""
    files = []
    for path in sorted(p for p in build.rglob("*") if p.is_file()):
        digest = hashlib.md5(usedforsecurity=False)
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        files.append(
            LocalFile(
                path.relative_to(build).as_posix(), path, digest.hexdigest(), path.stat().st_size
            )
        )
    return files


def version_of(files: list[LocalFile]) -> str:
    """A short content hash: the same build gets the same version."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.key}\0{f.md5}\n".encode())
    return digest.hexdigest()[:12]


class StaticSiteProvider(Provider):
    kind = "static-site"
    capabilities = (
        Capability.SNAPSHOT | Capability.DEPLOY | Capability.ROLLBACK | Capability.REVISIONS
    )
    declared_settings = SITE_DECLARED

    def __init__(self, name: str, settings: Mapping[str, Any], context: ProviderContext):
        super().__init__(name, settings, context)
        self.config = parse_sites(self.settings)
        self.aws = Aws(name, self.config.connection)
        self._snapshot: Snapshot | None = None
        self._taken = 0.0
        self._lock = asyncio.Lock()

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        return check_sites(settings)

    async def close(self) -> None:
        self.aws.close()

    def _site(self, target: TargetRef) -> Site:
        for site in self.config.sites:
            if site.name == target.target:
                return site
        raise NotFound(f"{target}: no site {target.target!r} in provider {self.name}")

    def _ref(self, site: Site) -> TargetRef:
        return TargetRef(self.name, site.name, site.environment, site.name)

    @staticmethod
    def _key(site: Site, key: str) -> str:
        return f"{site.prefix}/{key}" if site.prefix else key

    # --- reading --------------------------------------------------------------------

    def _interval(self) -> float:
        """`rollout_interval` while a distribution or invalidation is InProgress, so its
        row turns ready soon after CloudFront finishes; `poll_interval` otherwise."""
        rolling = self._snapshot is not None and any(
            t.status is RolloutStatus.PROGRESSING for t in self._snapshot.targets
        )
        return self.config.rollout_interval if rolling else self.config.poll_interval

    async def snapshot(self) -> Snapshot:
        async with self._lock:
            if self._snapshot is not None and time.monotonic() - self._taken < self._interval():
                return self._snapshot
            targets = await together(*(self._target(s) for s in self.config.sites))
            self._snapshot = Snapshot(self.name, tuple(targets), utcnow())
            self._taken = time.monotonic()
            return self._snapshot

    async def _manifest(self, site: Site, version_id: str | None = None) -> dict[str, Any] | None:
        s3 = self.aws.client("s3")
        kwargs: dict[str, Any] = {"Bucket": site.bucket, "Key": self._key(site, MANIFEST)}
        if version_id:
            kwargs["VersionId"] = version_id

        def read() -> dict[str, Any] | None:
            try:
                body = s3.get_object(**kwargs)["Body"].read()
            except Exception as exc:
                if error_code(exc) in ("NoSuchKey", "404"):
                    return None
                raise
            try:
                found = json.loads(body)
            except ValueError:
                return None
            return found if isinstance(found, dict) else None

        return await self.aws.call(f"manifest of {site.name}", read)

    async def _target(self, site: Site) -> Target:
        cloudfront = self.aws.client("cloudfront")
        distribution, invalidations, manifest = await together(
            self.aws.call(f"distribution of {site.name}", cloudfront.get_distribution,
                          Id=site.distribution),
            self.aws.call(f"invalidations of {site.name}", cloudfront.list_invalidations,
                          DistributionId=site.distribution, MaxItems="1"),
            self._manifest(site),
        )  # fmt: skip
        state = str((distribution.get("Distribution") or {}).get("Status") or "")
        items = (invalidations.get("InvalidationList") or {}).get("Items") or []
        last = items[0] if items else {}
        status = RolloutStatus.READY if state == "Deployed" else RolloutStatus.PROGRESSING
        parts = [f"distribution {state or 'unknown'}"]
        if last:
            parts.append(f"last invalidation {last.get('Id')} {last.get('Status')}")
            if last.get("Status") == IN_PROGRESS:
                status = RolloutStatus.PROGRESSING
        if manifest is None:
            parts.append("no deploy by Quorum yet")
        return Target(
            ref=self._ref(site),
            revision=str((manifest or {}).get("version") or "-"),
            status=status,
            ready=1 if state == "Deployed" else 0,
            desired=1,
            updated_at=as_time(_parse_iso((manifest or {}).get("deployed_at")))
            or as_time(last.get("CreateTime")),
            message="; ".join(parts),
            hosts=_hosts(distribution.get("Distribution") or {}),
        )

    async def _versioned(self, site: Site) -> bool:
        s3 = self.aws.client("s3")
        answer = await self.aws.call(
            f"versioning of {site.bucket}", s3.get_bucket_versioning, Bucket=site.bucket
        )
        return answer.get("Status") == "Enabled"

    async def _history(self, site: Site) -> list[dict[str, Any]]:
        """The manifest's object versions, newest first (the deploy history)."""
        s3 = self.aws.client("s3")
        key = self._key(site, MANIFEST)
        answer = await self.aws.call(
            f"history of {site.name}", s3.list_object_versions, Bucket=site.bucket, Prefix=key
        )
        found = [v for v in answer.get("Versions") or () if v.get("Key") == key]
        return sorted(found, key=lambda v: v.get("LastModified") or 0, reverse=True)

    async def revisions(self, target: TargetRef) -> list[Revision]:
        site = self._site(target)
        if not await self._versioned(site):
            manifest = await self._manifest(site)
            return [_revision(manifest, True)] if manifest else []
        history = (await self._history(site))[:20]
        manifests = await together(*(self._manifest(site, v["VersionId"]) for v in history))
        return [_revision(m, i == 0) for i, m in enumerate(manifests) if m]

    # --- changes --------------------------------------------------------------------

    def _writable(self, capability: Capability) -> None:
        if not self.can(capability):
            raise Refused(f"provider {self.name} is read-only")

    async def deploy(self, target: TargetRef, revision: str) -> str:
        """Upload the build directory `revision` names (optionally `DIR#VERSION`)."""
        self._writable(Capability.DEPLOY)
        site = self._site(target)
        folder, _, label = revision.partition("#")
        build = Path(folder).expanduser()
        if not build.is_dir():
            raise Refused(f"{revision!r} is not a build directory on this machine")
        files = await asyncio.to_thread(scan, build)
        if not files:
            raise Refused(f"{build} is empty: nothing to deploy")
        version = label or version_of(files)
        remote = await self._listing(site)
        previous = await self._manifest(site) or {}
        recorded = previous.get("files") or {}
        changed = [f for f in files if not self._same(site, f, remote, recorded)]
        keep = {f.key for f in files}
        gone = [k for k in (previous.get("files") or {}) if k not in keep]
        total = len(changed) + len(gone)
        report_progress(f"{site.name}: {len(changed)} of {len(files)} files changed", 0, total)
        versions = {k: v.get("version_id") for k, v in (previous.get("files") or {}).items()}
        uploads = await self._upload(site, changed, total)
        versions.update(uploads)
        if gone:
            await self._delete(site, gone)
            report_progress(f"{site.name}: removed {len(gone)} files", total, total)
        manifest = {
            "version": version,
            "previous": previous.get("version"),
            "deployed_at": utcnow().isoformat(),
            "by": current_identity().name,
            "source": str(build),
            "files": {
                f.key: {"md5": f.md5, "size": f.size, "version_id": versions.get(f.key)}
                for f in files
            },
        }
        await self._put_manifest(site, manifest)
        paths = [f"/{f.key}" for f in changed] + [f"/{k}" for k in gone]
        self._taken = 0.0
        invalidation = await self._invalidate(site, paths, version)
        return (
            f"site {site.name} at {version}: {len(uploads)} uploaded, {len(files) - len(changed)} "
            f"unchanged, {len(gone)} removed; invalidation {invalidation}"
        )

    def _same(
        self, site: Site, local: LocalFile, remote: dict[str, str], recorded: dict[str, Any]
    ) -> bool:
        """Whether the bucket already holds this file: its ETag is the MD5 (a simple
        upload), or, where it is not (KMS encryption), the last manifest recorded
        the same MD5 for an object still there."""
        etag = remote.get(self._key(site, local.key))
        if etag is None:
            return False
        return etag == local.md5 or (recorded.get(local.key) or {}).get("md5") == local.md5

    async def _listing(self, site: Site) -> dict[str, str]:
        """Key -> MD5 of the site's objects (a simple upload's ETag is its MD5)."""
        s3 = self.aws.client("s3")

        def run() -> dict[str, str]:
            found: dict[str, str] = {}
            paginator = s3.get_paginator("list_objects_v2")
            prefix = f"{site.prefix}/" if site.prefix else ""
            for page in paginator.paginate(Bucket=site.bucket, Prefix=prefix):
                for obj in page.get("Contents") or ():
                    found[obj["Key"]] = str(obj.get("ETag") or "").strip('"')
            return found

        return await self.aws.call(f"objects of {site.bucket}", run)

    async def _upload(
        self, site: Site, files: list[LocalFile], total: int
    ) -> list[tuple[str, Any]]:
        s3 = self.aws.client("s3")
        done = 0
        lock = asyncio.Lock()

        def put(f: LocalFile) -> tuple[str, Any]:
            content_type = mimetypes.guess_type(f.key)[0] or "application/octet-stream"
            with f.path.open("rb") as body:
                answer = s3.put_object(
                    Bucket=site.bucket, Key=self._key(site, f.key), Body=body,
                    ContentType=content_type,
                )  # fmt: skip
            return f.key, answer.get("VersionId")

        async def one(f: LocalFile) -> tuple[str, Any]:
            nonlocal done
            result = await self.aws.call(f"upload {f.key}", put, f)
            async with lock:
                done += 1
                report_progress(f"{site.name}: uploaded {f.key}", done, total)
            return result

        return list(await together(*(one(f) for f in files)))

    async def _delete(self, site: Site, keys: list[str]) -> None:
        s3 = self.aws.client("s3")
        for i in range(0, len(keys), 1000):
            objects = [{"Key": self._key(site, k)} for k in keys[i : i + 1000]]
            await self.aws.call(
                f"remove old files of {site.name}",
                s3.delete_objects,
                Bucket=site.bucket,
                Delete={"Objects": objects, "Quiet": True},
            )

    async def _put_manifest(self, site: Site, manifest: dict[str, Any]) -> None:
        s3 = self.aws.client("s3")
        await self.aws.call(
            f"manifest of {site.name}",
            s3.put_object,
            Bucket=site.bucket,
            Key=self._key(site, MANIFEST),
            Body=json.dumps(manifest, indent=1).encode(),
            ContentType="application/json",
        )

    async def _invalidate(self, site: Site, paths: list[str], version: str) -> str:
        """Invalidate `paths` and follow the invalidation until CloudFront completes it
        (or `rollout_timeout` passes); says its id and how it ended. The files are in
        place by then, so a failure to read the invalidation is said, not raised."""
        if not paths:
            return "not needed"
        if len(paths) > MAX_PATHS:
            paths = ["/*"]
        cloudfront = self.aws.client("cloudfront")
        answer = await self.aws.call(
            f"invalidate {site.name}",
            cloudfront.create_invalidation,
            DistributionId=site.distribution,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                "CallerReference": f"quorum-{version}-{time.time_ns()}",
            },
        )
        made = answer.get("Invalidation") or {}
        ident, status = str(made.get("Id") or ""), str(made.get("Status") or "")
        report_progress(f"{site.name}: invalidation {ident} of {len(paths)} paths {status}",
                        int(status != IN_PROGRESS), 1)  # fmt: skip
        deadline = time.monotonic() + self.config.rollout_timeout
        while status == IN_PROGRESS:
            if time.monotonic() >= deadline:
                return f"{ident} still {IN_PROGRESS} (followed on its row)"
            await asyncio.sleep(self.config.rollout_interval)
            try:
                found = await self.aws.call(
                    f"invalidation {ident} of {site.name}",
                    cloudfront.get_invalidation,
                    DistributionId=site.distribution,
                    Id=ident,
                )
            except ProviderError as exc:
                return f"{ident} {IN_PROGRESS} (no longer followed: {exc})"
            status = str((found.get("Invalidation") or {}).get("Status") or "")
            if status != IN_PROGRESS:
                report_progress(f"{site.name}: invalidation {ident} {status}", 1, 1)
        return f"{ident} {status}"

    async def rollback(self, target: TargetRef, to: str | None = None) -> str:
        """Restore an earlier deploy's files from their object versions (versioned buckets)."""
        self._writable(Capability.ROLLBACK)
        site = self._site(target)
        if not await self._versioned(site):
            raise Refused(
                f"bucket {site.bucket} is not versioned: it keeps no earlier deploy to restore; "
                "deploy the earlier build directory again (and enable versioning for rollbacks)"
            )
        history = await self._history(site)
        manifests = await together(*(self._manifest(site, v["VersionId"]) for v in history))
        deploys = [m for m in manifests if m]
        if not deploys:
            raise Refused(f"site {site.name} has no deploy by Quorum to roll back")
        current = deploys[0]
        if to:
            chosen = next((m for m in deploys if m.get("version") == to), None)
            if chosen is None:
                raise Refused(f"site {site.name} has no deploy {to!r}")
        else:
            chosen = next((m for m in deploys if m.get("version") != current.get("version")), None)
            if chosen is None:
                raise Refused(f"site {site.name} has no earlier deploy to roll back to")
        if chosen.get("version") == current.get("version"):
            return f"site {site.name} already at {current.get('version')}: skipped"
        return await self._restore(site, current, chosen)

    async def _restore(self, site: Site, current: dict, chosen: dict) -> str:
        s3 = self.aws.client("s3")
        files: dict[str, dict] = chosen.get("files") or {}
        now: dict[str, dict] = current.get("files") or {}
        copy = [k for k, v in files.items() if (now.get(k) or {}).get("md5") != v.get("md5")]
        missing = [k for k in copy if not files[k].get("version_id")]
        if missing:
            raise Refused(
                f"deploy {chosen.get('version')} recorded no object version for {missing[0]}"
            )
        gone = [k for k in now if k not in files]
        total = len(copy) + len(gone)
        report_progress(f"{site.name}: restoring {chosen.get('version')}", 0, total)
        for done, key in enumerate(copy, start=1):
            source = {"Bucket": site.bucket, "Key": self._key(site, key),
                      "VersionId": files[key]["version_id"]}  # fmt: skip
            answer = await self.aws.call(
                f"restore {key}", s3.copy_object, Bucket=site.bucket,
                Key=self._key(site, key), CopySource=source,
            )  # fmt: skip
            files[key] = dict(files[key], version_id=answer.get("VersionId"))
            report_progress(f"{site.name}: restored {key}", done, total)
        if gone:
            await self._delete(site, gone)
        restored = dict(chosen, files=files, previous=current.get("version"),
                        deployed_at=utcnow().isoformat(), by=current_identity().name)  # fmt: skip
        await self._put_manifest(site, restored)
        paths = [f"/{k}" for k in copy] + [f"/{k}" for k in gone]
        self._taken = 0.0
        invalidation = await self._invalidate(site, paths, str(chosen.get("version")))
        return (
            f"site {site.name} rolled back to {chosen.get('version')}: {len(copy)} restored, "
            f"{len(gone)} removed; invalidation {invalidation}"
        )


def _parse_iso(value: Any) -> Any:
    from datetime import datetime

    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _revision(manifest: Mapping[str, Any], current: bool) -> Revision:
    files = manifest.get("files") or {}
    return Revision(
        id=str(manifest.get("version") or "?"),
        created_at=as_time(_parse_iso(manifest.get("deployed_at"))),
        description=f"{len(files)} files by {manifest.get('by', '?')}"
        f" from {manifest.get('source', '?')}",
        current=current,
    )


def _hosts(distribution: dict[str, Any]) -> tuple[str, ...]:
    """Where a distribution answers (its CloudFront domain and its aliases), so a load
    balancer in front of it is matched to it."""
    config = distribution.get("DistributionConfig") or {}
    found = [distribution.get("DomainName"), *((config.get("Aliases") or {}).get("Items") or [])]
    return tuple(dict.fromkeys(str(h).lower() for h in found if isinstance(h, str) and h))
