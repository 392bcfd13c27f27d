"""The services of the simulated team: what runs where, and how each behaves at rest.

A fixed table rather than anything generated, so the sandbox looks the same to every
user and every test: nine services over three platforms, each provider serving only
its platform's, and not every service in every environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KUBERNETES = "kubernetes"
ECS = "ecs"
STATIC = "static"
PLATFORMS: tuple[str, ...] = (KUBERNETES, ECS, STATIC)

DEV = "dev"
STAGING = "staging"
PRODUCTION = "production"
ENVIRONMENTS: tuple[str, ...] = (DEV, STAGING, PRODUCTION)

# Share of production traffic each environment sees; scales CPU and request rates.
ENV_LOAD: dict[str, float] = {DEV: 0.15, STAGING: 0.4, PRODUCTION: 1.0}

HTTP = "http"  # request/response service: access lines, latency is request p99
JOBS = "jobs"  # queue consumer: job lines, latency is job p99
CDN = "cdn"  # static site behind a CDN: edge access lines, no CPU or memory


@dataclass(frozen=True)
class ServiceSpec:
    """One service and its resting behaviour at production load."""

    name: str
    platform: str
    target: str  # the platform's own name for it
    replicas: dict[str, int]  # per environment it runs in; the keys are its environments
    style: str
    cpu: float  # percent
    memory: float  # percent
    error_rate: float  # percent of requests or jobs
    p99: float  # milliseconds
    # "METHOD /path" (HTTP), paths (CDN) or job names (JOBS); {n} becomes a number.
    routes: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = field(default=())

    @property
    def environments(self) -> tuple[str, ...]:
        return tuple(env for env in ENVIRONMENTS if env in self.replicas)

    @property
    def container(self) -> str:
        return self.name


CATALOG: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "api", KUBERNETES, "deployment/api", {DEV: 1, STAGING: 2, PRODUCTION: 3}, HTTP,
        cpu=42, memory=55, error_rate=0.3, p99=240,
        routes=(
            "GET /v1/orders/{n}", "GET /v1/orders", "POST /v1/orders", "GET /v1/customers/{n}",
            "PUT /v1/cart", "GET /v1/cart", "DELETE /v1/cart/items/{n}", "GET /healthz",
        ),
        depends_on=("auth", "billing", "search"),
    ),
    ServiceSpec(
        "web", KUBERNETES, "deployment/web", {DEV: 1, STAGING: 2, PRODUCTION: 3}, HTTP,
        cpu=35, memory=48, error_rate=0.2, p99=180,
        routes=(
            "GET /", "GET /products/{n}", "GET /cart", "POST /checkout",
            "GET /static/app.{n}.js",
        ),
        depends_on=("api",),
    ),
    ServiceSpec(
        "worker", KUBERNETES, "deployment/worker", {STAGING: 1, PRODUCTION: 2}, JOBS,
        cpu=48, memory=60, error_rate=0.4, p99=320,
        routes=("send-receipt", "resize-image", "sync-inventory", "expire-carts"),
        depends_on=("api",),
    ),
    ServiceSpec(
        "auth", KUBERNETES, "deployment/auth", {STAGING: 1, PRODUCTION: 2}, HTTP,
        cpu=28, memory=40, error_rate=0.1, p99=120,
        routes=(
            "POST /oauth/token", "GET /oauth/authorize", "GET /userinfo",
            "GET /.well-known/jwks.json",
        ),
    ),
    ServiceSpec(
        "billing", ECS, "service/billing", {STAGING: 1, PRODUCTION: 2}, HTTP,
        cpu=38, memory=52, error_rate=0.2, p99=290,
        routes=(
            "GET /invoices/{n}", "GET /invoices", "POST /payments", "POST /refunds",
            "GET /refunds/{n}",
        ),
        depends_on=("auth",),
    ),
    ServiceSpec(
        "search", ECS, "service/search", {DEV: 1, STAGING: 1, PRODUCTION: 3}, HTTP,
        cpu=46, memory=62, error_rate=0.2, p99=210,
        routes=(
            "GET /search?q={n}", "GET /suggest?q={n}", "GET /index/status", "POST /index/batch",
        ),
    ),
    ServiceSpec(
        "notifier", ECS, "service/notifier", {STAGING: 1, PRODUCTION: 2}, JOBS,
        cpu=22, memory=38, error_rate=0.3, p99=260,
        routes=("email-order-confirmed", "sms-delivery-update", "push-price-drop"),
        depends_on=("billing",),
    ),
    ServiceSpec(
        "docs-site", STATIC, "site/docs", {STAGING: 1, PRODUCTION: 1}, CDN,
        cpu=0, memory=0, error_rate=0.05, p99=60,
        routes=("/", "/guide/install.html", "/api/reference.html", "/assets/site.{n}.css"),
    ),
    ServiceSpec(
        "status-page", STATIC, "site/status", {PRODUCTION: 1}, CDN,
        cpu=0, memory=0, error_rate=0.05, p99=45,
        routes=("/", "/history.html", "/api/v2/status.json", "/feed.rss"),
    ),
)  # fmt: skip

# Production services that can have an incident (static sites sit behind a CDN).
INCIDENT_SERVICES: tuple[str, ...] = tuple(s.name for s in CATALOG if s.style != CDN)


def services_on(platform: str) -> tuple[ServiceSpec, ...]:
    return tuple(spec for spec in CATALOG if spec.platform == platform)
