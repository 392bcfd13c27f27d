"""AWS APIs moto does not model, served on the wire from their documented shapes.

Each class here is a front the test proxy (tests.aws_fixtures.Proxy) consults
before relaying a request to moto: it answers the requests it knows and returns
None for the rest. The real boto3 client talks to them through `endpoint_url`;
nothing in botocore is patched.

- `MetricData`: CloudWatch GetMetricData, statistics included that moto cannot
  compute (a percentile such as `p99`: moto answers HTTP 500), in the JSON 1.0
  protocol: CloudWatch's model offers CBOR, JSON and query, and botocore 1.44
  prefers JSON (timestamps are epoch seconds).
- `CloudFront`: GetDistribution, ListInvalidations, GetInvalidation and
  CreateInvalidation in REST-XML, with a distribution or invalidation that stays
  `InProgress` until told otherwise (moto reports everything done at once).
- `Iam`: STS GetCallerIdentity, IAM GetRole and SimulatePrincipalPolicy in the query
  protocol, deciding from a small table of granted and denied actions.
"""

from __future__ import annotations

import fnmatch
import json
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree
from xml.sax.saxutils import escape

Reply = tuple[int, dict[str, str], bytes]
CLOUDFRONT_NS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _xml(status: int, body: str, **headers: str) -> Reply:
    data = ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()
    return status, {"Content-Type": "text/xml", **headers}, data


def _xml_error(status: int, code: str, message: str, namespace: str = "") -> Reply:
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    return _xml(
        status,
        f"<ErrorResponse{xmlns}><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>",
    )


# --- CloudWatch GetMetricData -------------------------------------------------------


def _metric_key(metric: dict[str, Any], stat: str) -> tuple:
    dims = frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions") or ())
    return (metric["Namespace"], metric["MetricName"], dims, stat)


@dataclass
class MetricData:
    """Datapoints per (namespace, metric, dimensions, statistic), as CloudWatch has
    already aggregated them; GetMetricData answers each query from them."""

    points: dict[tuple, list[tuple[datetime, float]]] = field(default_factory=dict)
    stats_asked: Counter[str] = field(default_factory=Counter)
    calls: int = 0

    def put(self, namespace: str, metric: str, dimensions: dict[str, str], stat: str,
            value: float, at: datetime) -> None:  # fmt: skip
        spec = {"Namespace": namespace, "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()]}  # fmt: skip
        self.points.setdefault(_metric_key(spec, stat), []).append((at, value))

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply | None:
        if headers.get("X-Amz-Target") != "GraniteServiceVersion20100801.GetMetricData":
            return None
        self.calls += 1
        result = self._results(json.loads(body))
        for item in result["MetricDataResults"]:
            item["Timestamps"] = [t.timestamp() for t in item["Timestamps"]]
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(result).encode()

    def _results(self, request: dict[str, Any]) -> dict[str, Any]:
        """One result per query that returns data: its points within [StartTime,
        EndTime), newest first unless ScanBy says oldest first."""
        start, end = _when(request["StartTime"]), _when(request["EndTime"])
        newest_first = request.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        results = []
        for query in request["MetricDataQueries"]:
            if query.get("ReturnData") is False:
                continue
            stat = query["MetricStat"]
            self.stats_asked[stat["Stat"]] += 1
            found = sorted(
                (p for p in self.points.get(_metric_key(stat["Metric"], stat["Stat"]), ())
                 if start <= p[0] < end),
                reverse=newest_first,
            )  # fmt: skip
            results.append({
                "Id": query["Id"], "Label": stat["Metric"]["MetricName"],
                "Timestamps": [t for t, _ in found], "Values": [v for _, v in found],
                "StatusCode": "Complete",
            })  # fmt: skip
        return {"MetricDataResults": results, "Messages": []}


def _when(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


# --- CloudFront -----------------------------------------------------------------------


@dataclass
class Invalidation:
    ident: str
    paths: list[str]
    caller_reference: str
    created: datetime
    status: str = "InProgress"
    # GetInvalidation reads left that still answer InProgress (None: until told).
    reads_left: int | None = None


@dataclass
class Distribution:
    ident: str
    status: str = "Deployed"
    invalidations: list[Invalidation] = field(default_factory=list)  # newest first
    # Each invalidation created here completes after this many GetInvalidation reads.
    completes_after: int | None = None


@dataclass
class CloudFront:
    """CloudFront distributions whose rollout the test controls."""

    distributions: dict[str, Distribution] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    invalidation_denied: bool = False  # the caller may not call GetInvalidation
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ident: str, status: str = "Deployed") -> Distribution:
        self.distributions[ident] = Distribution(ident, status)
        return self.distributions[ident]

    def invalidate(self, ident: str, paths: list[str], status: str = "InProgress") -> str:
        """An invalidation made elsewhere (another tool, the AWS console)."""
        with self._lock:
            return self._create(self.distributions[ident], paths, "elsewhere", status).ident

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply | None:
        parts = path.split("?")[0].strip("/").split("/")
        if len(parts) < 3 or parts[0] != "2020-05-31" or parts[1] != "distribution":
            return None
        with self._lock:
            found = self.distributions.get(parts[2])
            if found is None:
                return _xml_error(404, "NoSuchDistribution",
                                  "The specified distribution does not exist.")  # fmt: skip
            if len(parts) == 3 and method == "GET":
                self.counts["GetDistribution"] += 1
                return self._distribution(found)
            if len(parts) == 4 and parts[3] == "invalidation" and method == "GET":
                self.counts["ListInvalidations"] += 1
                return self._list(found, parse_qs(path.partition("?")[2]))
            if len(parts) == 4 and parts[3] == "invalidation" and method == "POST":
                self.counts["CreateInvalidation"] += 1
                made = self._create(found, *_batch(body), "InProgress")
                location = f"/2020-05-31/distribution/{found.ident}/invalidation/{made.ident}"
                return _xml(201, _invalidation_xml(made), Location=location)
            if len(parts) == 5 and parts[3] == "invalidation" and method == "GET":
                self.counts["GetInvalidation"] += 1
                if self.invalidation_denied:
                    denial = "not authorized to perform: cloudfront:GetInvalidation"
                    return _xml_error(403, "AccessDenied", denial)
                return self._get(found, parts[4])
        return _xml_error(400, "InvalidArgument", f"{method} {path} is not served here")

    def _create(self, dist: Distribution, paths: list[str], reference: str,
                status: str) -> Invalidation:  # fmt: skip
        made = Invalidation(f"I{uuid.uuid4().hex[:13].upper()}", paths, reference,
                            datetime.now(UTC), status, dist.completes_after)  # fmt: skip
        dist.invalidations.insert(0, made)
        return made

    def _distribution(self, dist: Distribution) -> Reply:
        running = sum(1 for i in dist.invalidations if i.status == "InProgress")
        body = (
            f'<Distribution xmlns="{CLOUDFRONT_NS}"><Id>{dist.ident}</Id>'
            f"<ARN>arn:aws:cloudfront::123456789012:distribution/{dist.ident}</ARN>"
            f"<Status>{dist.status}</Status>"
            f"<LastModifiedTime>{_iso(datetime.now(UTC))}</LastModifiedTime>"
            f"<InProgressInvalidationBatches>{running}</InProgressInvalidationBatches>"
            f"<DomainName>{dist.ident.lower()}.cloudfront.net</DomainName>"
            "<DistributionConfig><CallerReference>docs</CallerReference>"
            "<Comment>docs</Comment><Enabled>true</Enabled></DistributionConfig>"
            "</Distribution>"
        )
        return _xml(200, body, ETag=f"E{uuid.uuid4().hex[:12].upper()}")

    def _list(self, dist: Distribution, query: dict[str, list[str]]) -> Reply:
        """Newest first, `MaxItems` per page (default 100), continued at `Marker`."""
        size = int((query.get("MaxItems") or ["100"])[0])
        marker = (query.get("Marker") or [""])[0]
        ids = [i.ident for i in dist.invalidations]
        start = ids.index(marker) + 1 if marker in ids else 0
        page = dist.invalidations[start : start + size]
        truncated = start + size < len(ids)
        items = "".join(
            f"<InvalidationSummary><Id>{i.ident}</Id><CreateTime>{_iso(i.created)}</CreateTime>"
            f"<Status>{i.status}</Status></InvalidationSummary>"
            for i in page
        )
        next_marker = f"<NextMarker>{page[-1].ident}</NextMarker>" if truncated else ""
        body = (
            f'<InvalidationList xmlns="{CLOUDFRONT_NS}"><Marker>{marker}</Marker>{next_marker}'
            f"<MaxItems>{size}</MaxItems><IsTruncated>{str(truncated).lower()}</IsTruncated>"
            f"<Quantity>{len(page)}</Quantity>"
            + (f"<Items>{items}</Items>" if page else "")
            + "</InvalidationList>"
        )
        return _xml(200, body)

    def _get(self, dist: Distribution, ident: str) -> Reply:
        found = next((i for i in dist.invalidations if i.ident == ident), None)
        if found is None:
            return _xml_error(404, "NoSuchInvalidation",
                              "The specified invalidation does not exist.")  # fmt: skip
        if found.status == "InProgress" and found.reads_left is not None:
            if found.reads_left <= 0:
                found.status = "Completed"
            found.reads_left -= 1
        return _xml(200, _invalidation_xml(found))


def _batch(body: bytes) -> tuple[list[str], str]:
    root = ElementTree.fromstring(body)
    paths = [p.text or "" for p in root.iter(f"{{{CLOUDFRONT_NS}}}Path")]
    reference = root.findtext(f"{{{CLOUDFRONT_NS}}}CallerReference") or ""
    return paths, reference


def _invalidation_xml(item: Invalidation) -> str:
    paths = "".join(f"<Path>{escape(p)}</Path>" for p in item.paths)
    return (
        f'<Invalidation xmlns="{CLOUDFRONT_NS}"><Id>{item.ident}</Id>'
        f"<Status>{item.status}</Status><CreateTime>{_iso(item.created)}</CreateTime>"
        f"<InvalidationBatch><Paths><Quantity>{len(item.paths)}</Quantity>"
        f"<Items>{paths}</Items></Paths>"
        f"<CallerReference>{escape(item.caller_reference)}</CallerReference>"
        "</InvalidationBatch></Invalidation>"
    )


# --- STS and IAM ----------------------------------------------------------------------


@dataclass
class Role:
    name: str
    path: str = "/"
    # action -> resource ARN patterns the role's policies allow / explicitly deny
    allow: dict[str, list[str]] = field(default_factory=dict)
    deny: dict[str, list[str]] = field(default_factory=dict)

    def arn(self, account: str) -> str:
        return f"arn:aws:iam::{account}:role{self.path}{self.name}"


@dataclass
class Iam:
    """Whoever calls is `caller` (an STS ARN); IAM knows `roles` and simulates their
    policies: an explicit deny wins, else an allow, else the implicit deny."""

    account: str = "123456789012"
    caller: str = ""
    roles: dict[str, Role] = field(default_factory=dict)
    simulate_denied: bool = False  # the caller may not call SimulatePrincipalPolicy
    counts: Counter[str] = field(default_factory=Counter)
    simulations: list[dict[str, list[str]]] = field(default_factory=list)

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply | None:
        if method != "POST" or not body.startswith(b"Action=") and b"&Action=" not in body:
            return None
        form = parse_qs(body.decode())
        action = form["Action"][0]
        if action not in ("GetCallerIdentity", "GetRole", "SimulatePrincipalPolicy"):
            return None
        self.counts[action] += 1
        if action == "GetCallerIdentity":
            return self._identity()
        if action == "GetRole":
            return self._role(form["RoleName"][0])
        return self._simulate(form)

    def _identity(self) -> Reply:
        body = (
            f'<GetCallerIdentityResponse xmlns="{STS_NS}"><GetCallerIdentityResult>'
            f"<Arn>{self.caller}</Arn><UserId>AROAQUORUMTEST:session</UserId>"
            f"<Account>{self.account}</Account></GetCallerIdentityResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</GetCallerIdentityResponse>"
        )
        return _xml(200, body)

    def _role(self, name: str) -> Reply:
        role = self.roles.get(name)
        if role is None:
            return _xml_error(404, "NoSuchEntity", f"The role with name {name} cannot be found.",
                              IAM_NS)  # fmt: skip
        body = (
            f'<GetRoleResponse xmlns="{IAM_NS}"><GetRoleResult><Role>'
            f"<Path>{role.path}</Path><RoleName>{role.name}</RoleName>"
            f"<RoleId>AROAQUORUMTEST</RoleId><Arn>{role.arn(self.account)}</Arn>"
            "<CreateDate>2026-01-01T00:00:00Z</CreateDate></Role></GetRoleResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</GetRoleResponse>"
        )
        return _xml(200, body)

    def _simulate(self, form: dict[str, list[str]]) -> Reply:
        def members(name: str) -> list[str]:
            keys = sorted((k for k in form if k.startswith(f"{name}.member.")),
                          key=lambda k: int(k.rpartition(".")[2]))  # fmt: skip
            return [form[k][0] for k in keys]

        source = form["PolicySourceArn"][0]
        actions, resources = members("ActionNames"), members("ResourceArns") or ["*"]
        self.simulations.append({"source": [source], "actions": actions, "resources": resources})
        if self.simulate_denied:
            return _xml_error(
                403, "AccessDenied",
                f"User: {self.caller} is not authorized to perform: iam:SimulatePrincipalPolicy",
                IAM_NS,
            )  # fmt: skip
        role = next((r for r in self.roles.values() if r.arn(self.account) == source), None)
        if role is None:
            return _xml_error(404, "NoSuchEntity", f"No principal {source}.", IAM_NS)
        results = "".join(
            _evaluation(role, action, resource) for action in actions for resource in resources
        )
        body = (
            f'<SimulatePrincipalPolicyResponse xmlns="{IAM_NS}"><SimulatePrincipalPolicyResult>'
            f"<IsTruncated>false</IsTruncated><EvaluationResults>{results}</EvaluationResults>"
            "</SimulatePrincipalPolicyResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</SimulatePrincipalPolicyResponse>"
        )
        return _xml(200, body)


def _evaluation(role: Role, action: str, resource: str) -> str:
    def matches(table: dict[str, list[str]]) -> bool:
        return any(
            fnmatch.fnmatchcase(action, pattern_action)
            and any(fnmatch.fnmatchcase(resource, p) for p in patterns)
            for pattern_action, patterns in table.items()
        )

    if matches(role.deny):
        decision, policy = "explicitDeny", f"{role.name}-guardrail"
    elif matches(role.allow):
        decision, policy = "allowed", f"{role.name}-deploy"
    else:
        decision, policy = "implicitDeny", ""
    statements = (
        f"<member><SourcePolicyId>{policy}</SourcePolicyId>"
        "<SourcePolicyType>IAM Policy</SourcePolicyType></member>"
        if policy
        else ""
    )
    return (
        f"<member><EvalActionName>{action}</EvalActionName>"
        f"<EvalResourceName>{escape(resource)}</EvalResourceName>"
        f"<EvalDecision>{decision}</EvalDecision>"
        f"<MatchedStatements>{statements}</MatchedStatements>"
        "<MissingContextValues/></member>"
    )
